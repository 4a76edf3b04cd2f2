"""A small protobuf wire-format codec for exactly the TensorFlow messages that TCC-format TFRecords use.

From tensorflow/core/example/{example,feature}.proto:

    SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
    Features        { map<string, Feature> feature = 1; }          (map entry: key = 1, value = 2)
    FeatureLists    { map<string, FeatureList> feature_list = 1; }
    FeatureList     { repeated Feature feature = 1; }
    Feature         { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
    BytesList       { repeated bytes value = 1; }
    FloatList       { repeated float value = 1 [packed = true]; }
    Int64List       { repeated int64 value = 1 [packed = true]; }

Decoding accepts packed and unpacked repeated scalars and skips unknown fields. A decoded Feature is a list of
bytes, a float32 array or an int64 array.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterator, Union

import numpy as np

from gtalign.errors import GtalignError

FeatureValue = Union[list, np.ndarray]  # list[bytes] | float32 (n,) | int64 (n,)

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


@dataclass
class SequenceExample:
    """context: name -> value; feature_lists: name -> one value per time step."""

    context: dict[str, FeatureValue] = field(default_factory=dict)
    feature_lists: dict[str, list[FeatureValue]] = field(default_factory=dict)


# ---------------------------------------------------------------- decoding

def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise GtalignError("protobuf: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise GtalignError("protobuf: varint longer than 10 bytes")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield (field number, wire type, value): an int for varints, a memoryview for the other wire types."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = _varint(buf, pos)
            yield number, wire, value
            continue
        if wire == LENGTH:
            size, pos = _varint(buf, pos)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
        else:
            raise GtalignError(f"protobuf: unsupported wire type {wire} for field {number}")
        if pos + size > len(buf):
            raise GtalignError(f"protobuf: field {number} runs past the end of its message")
        yield number, wire, buf[pos:pos + size]
        pos += size


def _to_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _decode_int64s(chunks: list[tuple[int, int | memoryview]]) -> np.ndarray:
    values: list[int] = []
    for wire, value in chunks:
        if wire == VARINT:
            values.append(_to_int64(value))  # type: ignore[arg-type]
        else:  # packed
            pos, packed = 0, value
            while pos < len(packed):  # type: ignore[arg-type]
                v, pos = _varint(packed, pos)  # type: ignore[arg-type]
                values.append(_to_int64(v))
    return np.array(values, dtype=np.int64)


def _decode_floats(chunks: list[tuple[int, int | memoryview]]) -> np.ndarray:
    parts = []
    for wire, value in chunks:
        if wire not in (FIXED32, LENGTH):
            raise GtalignError(f"protobuf: FloatList value has wire type {wire}, expected 5 or 2 (packed)")
        parts.append(np.frombuffer(bytes(value), dtype="<f4"))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def decode_feature(buf: memoryview) -> FeatureValue:
    """A Feature message as list[bytes] | float32 (n,) | int64 (n,) (an empty Feature is an empty list)."""
    result: FeatureValue = []
    for number, wire, value in _fields(buf):
        if wire != LENGTH:
            continue
        chunks = [(w, v) for n, w, v in _fields(value) if n == 1]  # type: ignore[arg-type]
        if number == 1:
            result = [bytes(v) for w, v in chunks if w == LENGTH]
        elif number == 2:
            result = _decode_floats(chunks)
        elif number == 3:
            result = _decode_int64s(chunks)
    return result


def _map_entries(buf: memoryview) -> Iterator[tuple[str, memoryview]]:
    """(key, value message) of each entry of a map<string, Message> field number 1."""
    for number, wire, entry in _fields(buf):
        if number != 1 or wire != LENGTH:
            continue
        key, value = "", memoryview(b"")
        for n, w, v in _fields(entry):  # type: ignore[arg-type]
            if n == 1 and w == LENGTH:
                key = bytes(v).decode("utf-8")
            elif n == 2 and w == LENGTH:
                value = v  # type: ignore[assignment]
        yield key, value


def decode_sequence_example(data: bytes | memoryview) -> SequenceExample:
    """Parse a serialized tf.train.SequenceExample."""
    example = SequenceExample()
    for number, wire, value in _fields(memoryview(data)):
        if wire != LENGTH:
            continue
        if number == 1:
            example.context.update((k, decode_feature(v)) for k, v in _map_entries(value))  # type: ignore[arg-type]
        elif number == 2:
            for key, flist in _map_entries(value):  # type: ignore[arg-type]
                example.feature_lists[key] = [decode_feature(v) for n, w, v in _fields(flist)  # type: ignore[arg-type]
                                              if n == 1 and w == LENGTH]
    return example


# ---------------------------------------------------------------- encoding

def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | LENGTH) + _encode_varint(len(payload)) + payload


def encode_feature(value: FeatureValue, packed: bool = True) -> bytes:
    """A Feature message from list[bytes] (BytesList), a float array (FloatList) or an int array (Int64List)."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bytes, bytearray)) for v in value):
        return _length_field(1, b"".join(_length_field(1, bytes(v)) for v in value))
    arr = np.asarray(value).reshape(-1)
    if np.issubdtype(arr.dtype, np.floating):
        floats = arr.astype("<f4")
        body = (_length_field(1, floats.tobytes()) if packed else
                b"".join(_encode_varint(1 << 3 | FIXED32) + struct.pack("<f", f) for f in floats.tolist()))
        return _length_field(2, body)
    if np.issubdtype(arr.dtype, np.integer):
        ints = [int(v) for v in arr.tolist()]
        body = (_length_field(1, b"".join(_encode_varint(v) for v in ints)) if packed else
                b"".join(_encode_varint(1 << 3 | VARINT) + _encode_varint(v) for v in ints))
        return _length_field(3, body)
    raise GtalignError(f"feature value must be a list of bytes or a numeric array, got {type(value).__name__}")


def _map_field(items: dict[str, bytes]) -> bytes:
    return b"".join(_length_field(1, _length_field(1, k.encode("utf-8")) + _length_field(2, v))
                    for k, v in items.items())


def encode_sequence_example(example: SequenceExample, packed: bool = True) -> bytes:
    """Serialize a SequenceExample (the inverse of `decode_sequence_example`)."""
    context = _map_field({k: encode_feature(v, packed) for k, v in example.context.items()})
    lists = _map_field({k: b"".join(_length_field(1, encode_feature(f, packed)) for f in steps)
                        for k, steps in example.feature_lists.items()})
    return _length_field(1, context) + _length_field(2, lists)
