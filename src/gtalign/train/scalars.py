"""Training logs: a CSV file and TensorBoard event files of scalars (written without TensorFlow or tensorboard).

The event file is a TFRecord file of `Event` protobufs: a first event with `file_version = "brain.Event:2"`, then one
event per (step, tag, value) with `summary.value = [{tag, simple_value}]`. TensorBoard reads these directly.
"""
from __future__ import annotations

import csv
import io
import socket
import struct
import time
from pathlib import Path

from gtalign.data.tfrecord import frame_record
from gtalign.io import atomic_write_text


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_event(wall_time: float, step: int, tag: str | None = None, value: float | None = None,
                 file_version: str | None = None) -> bytes:
    """An `Event` protobuf: wall_time (1, double), step (2, int64), file_version (3) or summary (5)."""
    out = _varint(1 << 3 | 1) + struct.pack("<d", wall_time) + _varint(2 << 3 | 0) + _varint(step)
    if file_version is not None:
        out += _field(3, file_version.encode())
    if tag is not None and value is not None:
        summary_value = _field(1, tag.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", float(value))
        out += _field(5, _field(1, summary_value))
    return out


class ScalarLog:
    """Scalars per step to `{run_dir}/log.csv` and a TensorBoard event file in `run_dir`.

    `resume_step`: on resume, CSV rows of later steps (from the interrupted run) are dropped.
    """

    def __init__(self, run_dir: str | Path, resume_step: int | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.run_dir / "log.csv"
        if resume_step is not None and self.csv_path.is_file():
            self._truncate_csv(resume_step)
        elif self.csv_path.exists():
            self.csv_path.unlink()
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{time.monotonic_ns()}"
        self.events = open(self.run_dir / name, "ab")
        self.events.write(frame_record(encode_event(time.time(), 0, file_version="brain.Event:2")))

    def _truncate_csv(self, last_step: int) -> None:
        rows = list(csv.reader(self.csv_path.read_text(encoding="utf-8").splitlines()))
        kept = [r for r in rows if r and (not r[0].isdigit() or int(r[0]) <= last_step)]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(kept)
        atomic_write_text(self.csv_path, buffer.getvalue())

    def write(self, step: int, values: dict[str, float]) -> None:
        """Append `values` (tag -> number) at `step` to both logs."""
        now = time.time()
        new = not self.csv_path.exists()
        with open(self.csv_path, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["step", "tag", "value", "wall_time"])
            for tag, value in values.items():
                writer.writerow([step, tag, repr(float(value)), f"{now:.3f}"])
        for tag, value in values.items():
            self.events.write(frame_record(encode_event(now, step, tag, value)))
        self.events.flush()

    def close(self) -> None:
        self.events.close()
