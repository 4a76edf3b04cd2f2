"""TCC TFRecords without TensorFlow: CRC-32C, protobuf wire format, SequenceExample layout, the source."""
import io
import struct

import numpy as np
import pytest
from PIL import Image

from gtalign.data import open_source
from gtalign.data.sequence_example import (
    SequenceExample,
    decode_feature,
    decode_sequence_example,
    encode_feature,
    encode_sequence_example,
)
from gtalign.data.tfrecord import class_and_split, crc32c, iter_records, masked_crc32c, tcc_example, write_records
from gtalign.errors import GtalignError


def crc32c_bitwise(data: bytes) -> int:
    """Straightforward bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def jpeg(value: int, size: int = 16) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(buf, "jpeg", quality=95)
    return buf.getvalue()


def test_crc32c_known_value_and_bitwise_reference():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    rng = np.random.default_rng(1)
    for n in (0, 1, 7, 300):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32c(data) == crc32c_bitwise(data)
        c = crc32c_bitwise(data)
        assert masked_crc32c(data) == ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_feature_wire_bytes_match_protobuf_spec():
    # Feature{int64_list{value: [1, 300]}} packed: field 3 (0x1a), Int64List field 1 packed (0x0a) varints
    assert encode_feature(np.array([1, 300])) == bytes([0x1A, 0x05, 0x0A, 0x03, 0x01, 0xAC, 0x02])
    # Feature{bytes_list{value: ["ab"]}}
    assert encode_feature([b"ab"]) == bytes([0x0A, 0x04, 0x0A, 0x02]) + b"ab"
    # Feature{float_list{value: [1.5]}} packed
    assert encode_feature(np.array([1.5], np.float32)) == bytes([0x12, 0x06, 0x0A, 0x04]) + struct.pack("<f", 1.5)
    # unpacked int64 (wire type 0 per value, as older writers produce) decodes the same
    unpacked = bytes([0x1A, 0x05, 0x08, 0x01, 0x08, 0xAC, 0x02])
    np.testing.assert_array_equal(decode_feature(memoryview(unpacked)), [1, 300])


@pytest.mark.parametrize("packed", [True, False])
def test_sequence_example_roundtrip(packed):
    example = SequenceExample(
        context={"name": [b"clip"], "len": np.array([3]), "neg": np.array([-5, 2**40]),
                 "score": np.array([0.25, -2.0], np.float32)},
        feature_lists={"video": [[b"\x00\x01"], [b""], [b"xyz"]], "frame_labels": [np.array([v]) for v in (0, 1, 1)]})
    back = decode_sequence_example(encode_sequence_example(example, packed=packed))
    assert back.context["name"] == [b"clip"]
    np.testing.assert_array_equal(back.context["neg"], [-5, 2**40])
    np.testing.assert_array_equal(back.context["score"], [0.25, -2.0])
    assert back.feature_lists["video"] == [[b"\x00\x01"], [b""], [b"xyz"]]
    assert [int(v[0]) for v in back.feature_lists["frame_labels"]] == [0, 1, 1]


def test_record_framing_and_crc_check(tmp_path):
    path = write_records(tmp_path / "r.tfrecord", [b"hello", b"", b"world!"])
    raw = path.read_bytes()
    assert struct.unpack("<Q", raw[:8])[0] == 5 and raw[12:17] == b"hello"
    assert struct.unpack("<I", raw[8:12])[0] == masked_crc32c(raw[:8])
    assert [d for _, d in iter_records(path)] == [b"hello", b"", b"world!"]
    corrupt = bytearray(raw)
    corrupt[13] ^= 0xFF  # flip a byte inside "hello"
    (tmp_path / "c.tfrecord").write_bytes(bytes(corrupt))
    problems = []
    assert [d for _, d in iter_records(tmp_path / "c.tfrecord", problems)] == [b"", b"world!"]
    assert problems[0].offset == 0 and "CRC" in problems[0].reason
    with pytest.raises(GtalignError, match="CRC"):
        list(iter_records(tmp_path / "c.tfrecord"))


def test_class_and_split_from_tcc_file_names(tmp_path):
    from pathlib import Path
    assert class_and_split(Path("baseball_pitch_train-0-of-4.tfrecord")) == ("baseball_pitch", "train")
    assert class_and_split(Path("pouring_val-01-of-10.tfrecord")) == ("pouring", "val")
    assert class_and_split(Path("mydata.tfrecord")) == ("mydata", "train")


def test_tfrecord_source_reads_tcc_layout(tmp_path):
    for split, n in (("train", 2), ("val", 1)):
        records = [tcc_example(f"{split}{i}", [jpeg(40 * j) for j in range(4 + i)], label=7,
                               frame_labels=np.arange(4 + i) // 2) for i in range(n)]
        write_records(tmp_path / f"pouring_{split}-0-of-1.tfrecord", records)
    source = open_source(tmp_path)
    assert type(source).__name__ == "TFRecordSource"
    assert [(e.id, e.split, e.class_name, e.num_frames) for e in source.entries] == [
        ("train0", "train", "pouring", 4), ("train1", "train", "pouring", 5), ("val0", "val", "pouring", 4)]
    np.testing.assert_array_equal(source.entries[1].labels, [0, 0, 1, 1, 2])
    assert source.entries[0].meta["label"] == 7
    frames = source.read_frames(1, [4, 0, 2])
    assert frames.shape == (3, 16, 16, 3)
    np.testing.assert_allclose(frames[:, 0, 0, 0], [160, 0, 80], atol=3)
    np.testing.assert_array_equal(np.stack(list(source.iter_frames(1, [0, 2, 4]))), frames[[1, 2, 0]])
    np.testing.assert_array_equal(np.stack(list(source.iter_frames(1))), source.read_frames(1))
    assert len(open_source(tmp_path, split="val")) == 1
