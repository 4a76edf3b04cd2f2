"""TCC-format TFRecords, read without TensorFlow.

File framing (TensorFlow's record_writer): each record is
`uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)`, little-endian, with
masked_crc(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32) and crc32c the Castagnoli CRC.

Each record is a tf.train.SequenceExample as written by TCC's dataset_preparation (also used for the published
Pouring and PennAction records): context `name` (bytes), `len` (int64), optional `label` (int64); sequence
`video` (one JPEG per frame), optional `frame_labels` (one int64 per frame). File names
`<class>_<split>-<shard>-of-<shards>.tfrecord` give the class and split (e.g. `baseball_pitch_train-0-of-4`).
"""
from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numba
import numpy as np
from PIL import Image

from gtalign.data.indices import checked_indices, streamed_indices
from gtalign.data.manifest import SPLITS, Manifest, VideoEntry
from gtalign.data.scan import Skipped, parallel_map, report_skipped
from gtalign.data.sequence_example import SequenceExample, decode_sequence_example, encode_sequence_example
from gtalign.data.source import VideoSource, register_source
from gtalign.data.video import scale_frame
from gtalign.errors import GtalignError
from gtalign.io import atomic_path

_MASK_DELTA = 0xA282EAD8


def _crc32c_table() -> np.ndarray:
    table = np.zeros(256, np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table[i] = c
    return table


_TABLE = _crc32c_table()


@numba.njit(cache=True, nogil=True)
def _crc32c_kernel(data: np.ndarray, table: np.ndarray) -> int:  # pragma: no cover - compiled
    crc = np.uint32(0xFFFFFFFF)
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> np.uint32(8))
    return int(crc ^ np.uint32(0xFFFFFFFF))


def crc32c(data: bytes | memoryview) -> int:
    """The CRC-32C (Castagnoli) of `data`."""
    return int(_crc32c_kernel(np.frombuffer(data, np.uint8), _TABLE))


def masked_crc32c(data: bytes | memoryview) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read: where it starts and why."""

    offset: int
    reason: str


def iter_records(path: str | Path, problems: list[RecordProblem] | None = None,
                 verify: bool = True) -> Iterator[tuple[int, bytes]]:
    """Yield (byte offset, payload) of each record of a TFRecord file.

    A record whose data CRC is wrong is appended to `problems` and skipped; a bad length header or a truncated
    file ends the file (what follows cannot be framed) and is appended too. Without `problems`, both raise.
    """
    path = Path(path)

    def fail(offset: int, reason: str) -> None:
        if problems is None:
            raise GtalignError(f"TFRecord {path}: record at byte {offset}: {reason}")
        problems.append(RecordProblem(offset, reason))

    with open(path, "rb") as f:
        while True:
            offset = f.tell()
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                return fail(offset, "truncated length header")
            length_bytes, length_crc = header[:8], struct.unpack("<I", header[8:])[0]
            if verify and masked_crc32c(length_bytes) != length_crc:
                return fail(offset, "length header CRC mismatch (file corrupt from here on)")
            (length,) = struct.unpack("<Q", length_bytes)
            data = f.read(length)
            footer = f.read(4)
            if len(data) < length or len(footer) < 4:
                return fail(offset, f"truncated record ({len(data)} of {length} bytes)")
            if verify and masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                fail(offset, "data CRC mismatch")
                continue
            yield offset, data


def read_record_at(path: str | Path, offset: int, verify: bool = True) -> bytes:
    """The payload of the single record starting at byte `offset`."""
    with open(path, "rb") as f:
        f.seek(offset)
        header = f.read(12)
        if len(header) < 12:
            raise GtalignError(f"TFRecord {path}: no record at byte {offset}")
        (length,) = struct.unpack("<Q", header[:8])
        data, footer = f.read(length), f.read(4)
    if len(footer) < 4 or (verify and masked_crc32c(data) != struct.unpack("<I", footer)[0]):
        raise GtalignError(f"TFRecord {path}: record at byte {offset} is truncated or fails its CRC")
    return data


def frame_record(data: bytes) -> bytes:
    """One record in TFRecord framing (length, masked CRCs)."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data)))


def write_records(path: str | Path, payloads: list[bytes]) -> Path:
    """Write payloads as a TFRecord file atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            for data in payloads:
                f.write(frame_record(data))
    return Path(path)


# ---------------------------------------------------------------- TCC sequence examples

def tcc_example(name: str, jpegs: list[bytes], label: int | None = None,
                frame_labels: np.ndarray | None = None) -> bytes:
    """A serialized SequenceExample in TCC's layout (what TCC's dataset_preparation writes)."""
    example = SequenceExample(context={"name": [name.encode("utf-8")], "len": np.array([len(jpegs)])},
                              feature_lists={"video": [[j] for j in jpegs]})
    if label is not None:
        example.context["label"] = np.array([label])
    if frame_labels is not None:
        example.feature_lists["frame_labels"] = [np.array([int(v)]) for v in frame_labels]
    return encode_sequence_example(example)


def _context_int(example: SequenceExample, key: str) -> int | None:
    value = example.context.get(key)
    return int(value[0]) if isinstance(value, np.ndarray) and value.size else None


def _jpegs(example: SequenceExample) -> list[bytes]:
    steps = example.feature_lists.get("video")
    if not steps:
        return []
    if not all(isinstance(s, list) and len(s) == 1 for s in steps):
        raise GtalignError("sequence feature 'video' must hold one JPEG (bytes) per frame")
    return [s[0] for s in steps]


def _decode_jpeg(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


_SHARD = re.compile(r"-\d+-of-\d+$")


def class_and_split(path: Path) -> tuple[str, str]:
    """(class, split) from a TCC record file name `<class>_<split>-<shard>-of-<shards>.tfrecord`."""
    stem = _SHARD.sub("", path.name.split(".tfrecord")[0])
    for split in SPLITS:
        if stem.endswith(f"_{split}"):
            return stem[: -len(split) - 1], split
    return stem, "train"


def _entry_from_record(path: Path, offset: int, data: bytes) -> VideoEntry:
    """A VideoEntry from one TCC record; raises GtalignError when the record is unusable."""
    where = f"{path} (record at byte {offset})"
    try:
        example = decode_sequence_example(data)
    except GtalignError as e:
        raise GtalignError(f"{where}: not a SequenceExample: {e}") from e
    jpegs = _jpegs(example)
    if not jpegs:
        raise GtalignError(f"{where}: empty video (no 'video' frames)")
    declared = _context_int(example, "len")
    if declared is not None and declared != len(jpegs):
        raise GtalignError(f"{where}: context len is {declared} but the record holds {len(jpegs)} frames")
    labels = None
    if "frame_labels" in example.feature_lists:
        labels = np.array([int(np.asarray(v).reshape(-1)[0]) for v in example.feature_lists["frame_labels"]],
                          dtype=np.int64)
        if len(labels) != len(jpegs):
            raise GtalignError(f"{where}: {len(labels)} frame_labels for {len(jpegs)} frames")
    for j in {0, len(jpegs) - 1}:
        try:
            _decode_jpeg(jpegs[j])
        except Exception as e:  # noqa: BLE001 - PIL raises many kinds
            raise GtalignError(f"{where}: frame {j} is not a readable image: {e}") from e
    name_value = example.context.get("name")
    name = name_value[0].decode("utf-8") if isinstance(name_value, list) and name_value else \
        f"{path.stem}_{offset}"
    class_name, split = class_and_split(path)
    meta = {"tfrecord_offset": offset}
    label = _context_int(example, "label")
    if label is not None:
        meta["label"] = label
    return VideoEntry(id=name, path=path, class_name=class_name, split=split, num_frames=len(jpegs),
                      labels=labels, meta=meta)


def _unique_ids(entries: list[VideoEntry]) -> None:
    seen: dict[str, int] = {}
    for e in entries:
        if e.id in seen:
            seen[e.id] += 1
            e.id = f"{e.id}-{seen[e.id]}"
        else:
            seen[e.id] = 0


def record_files(path: Path) -> list[Path]:
    """A .tfrecord file, or the TFRecord files in a folder (names containing `.tfrecord`), sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and ".tfrecord" in p.name)


def _is_tfrecord(path: Path) -> bool:
    return bool(".tfrecord" in path.name and path.is_file()) or (path.is_dir() and bool(record_files(path)))


class TFRecordSource(VideoSource):
    """Videos stored as TCC SequenceExamples (entry.path is the file, meta["tfrecord_offset"] the record)."""

    def _jpegs(self, i: int) -> list[bytes]:
        entry = self.entries[i]
        return _jpegs(decode_sequence_example(read_record_at(entry.path, entry.meta["tfrecord_offset"])))

    def read_frames(self, i: int, indices: np.ndarray | None = None) -> np.ndarray:
        jpegs = self._jpegs(i)
        idx = checked_indices(indices, len(jpegs), self.entries[i].id)
        decoded = {j: _decode_jpeg(jpegs[j]) for j in set(idx.tolist())}
        return np.stack([decoded[j] for j in idx.tolist()])

    def iter_frames(self, i: int, indices: np.ndarray | None = None,
                    max_side: int | None = None) -> Iterator[np.ndarray]:
        """The record is read once; each frame's JPEG is decoded when it is reached."""
        jpegs, what = self._jpegs(i), self.entries[i].id
        for j in streamed_indices(indices, len(jpegs), what):
            yield scale_frame(_decode_jpeg(jpegs[j]), max_side)


def index_file(path: Path) -> tuple[list[VideoEntry], list[Skipped]]:
    """The usable videos of one TFRecord file, and its skipped records (read one record at a time)."""
    problems: list[RecordProblem] = []
    entries: list[VideoEntry] = []
    skipped: list[Skipped] = []
    for offset, data in iter_records(path, problems):
        try:
            entries.append(_entry_from_record(path, offset, data))
        except GtalignError as e:
            skipped.append(Skipped(f"{path} (record at byte {offset})", str(e)))
    skipped.extend(Skipped(f"{path} (record at byte {p.offset})", p.reason) for p in problems)
    return entries, skipped


@register_source("tfrecord", detect=_is_tfrecord)
def open_tfrecords(path: Path, split: str | None = None, workers: int = 2, progress: bool = True) -> TFRecordSource:
    """A TCC-format .tfrecord file or a folder of them (one worker per file)."""
    files = [f for f in record_files(path) if split is None or class_and_split(f)[1] == split]
    if not files:
        raise GtalignError(f"no TFRecord files (*.tfrecord*) at {path}"
                           f"{'' if split is None else f' for split {split!r}'}")
    entries: list[VideoEntry] = []
    skipped: list[Skipped] = []
    desc = f"indexing {path.name}" if progress else None
    for f, result in zip(files, parallel_map(index_file, files, workers=workers, desc=desc)):
        if isinstance(result, BaseException):
            skipped.append(Skipped(str(f), str(result)))
        else:
            entries.extend(result[0])
            skipped.extend(result[1])
    report_skipped(skipped, len(entries) + len(skipped), len(entries), f"TFRecords {path}")
    _unique_ids(entries)
    classes = sorted({e.class_name for e in entries})
    root = path if path.is_dir() else path.parent
    return TFRecordSource(Manifest(name=path.stem, videos=entries, classes=classes, root=root.resolve()), skipped)
