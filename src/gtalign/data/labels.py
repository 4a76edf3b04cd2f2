"""Per-frame label files: one integer label per frame of a video.

Supported formats (chosen by suffix):
- `.txt`: integers separated by whitespace or newlines (`0 0 1 1 2`);
- `.npy`: a 1-D integer array;
- `.csv`: one integer per row, or rows `frame,label` (a header row is skipped; rows are ordered by `frame`).
A label file sits next to its video as `<video name>.labels.<ext>` (`clip01.mp4` -> `clip01.labels.txt`,
frame folder `clip01/` -> `clip01.labels.txt`).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from gtalign.errors import GtalignError

LABEL_SUFFIXES = (".txt", ".npy", ".csv")


def label_file_for(video_path: Path) -> Path | None:
    """The `<stem>.labels.{txt,npy,csv}` next to a video file or frame folder, if one exists."""
    video_path = Path(video_path)
    stem = video_path.name if video_path.is_dir() else video_path.stem
    for suffix in LABEL_SUFFIXES:
        candidate = video_path.with_name(f"{stem}.labels{suffix}")
        if candidate.is_file():
            return candidate
    return None


def _read_csv(path: Path) -> np.ndarray:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if rows and not rows[0][-1].strip().lstrip("-").isdigit():
        rows = rows[1:]  # header
    if not rows:
        return np.zeros(0, np.int64)
    width = len(rows[0])
    if width not in (1, 2) or any(len(r) != width for r in rows):
        raise GtalignError(f"label file {path}: expected rows of `label` or `frame,label`, got rows of "
                           f"{sorted({len(r) for r in rows})} columns")
    values = np.array([[int(c) for c in r] for r in rows], dtype=np.int64)
    if width == 1:
        return values[:, 0]
    order = np.argsort(values[:, 0], kind="stable")
    return values[order, 1]


def read_label_file(path: str | Path) -> np.ndarray:
    """Per-frame labels from a `.txt`, `.npy` or `.csv` file as int64 (num_frames,)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            labels = np.load(path, allow_pickle=False)
        elif suffix == ".csv":
            labels = _read_csv(path)
        elif suffix == ".txt":
            labels = np.array(path.read_text(encoding="utf-8").split(), dtype=np.int64)
        else:
            raise GtalignError(f"label file {path}: expected a suffix in {LABEL_SUFFIXES}, got {suffix!r}")
    except (ValueError, OSError) as e:
        if isinstance(e, GtalignError):
            raise
        raise GtalignError(f"label file {path} cannot be read as integers: {e}") from e
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (labels.size == 0 or np.issubdtype(labels.dtype, np.integer)):
        raise GtalignError(f"label file {path}: expected a 1-D list of integers, got {labels.dtype} {labels.shape}")
    return labels.astype(np.int64)


def check_labels(labels: np.ndarray | None, num_frames: int, where: str) -> None:
    """Raise GtalignError when per-frame labels do not have one value per frame."""
    if labels is not None and len(labels) != num_frames:
        raise GtalignError(f"{where}: {len(labels)} labels for {num_frames} frames")
