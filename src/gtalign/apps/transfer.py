"""`gtalign transfer`: carry something that lives on A's timeline onto B's through their alignment.

B is the anchor: every frame j of B is aligned to a position on A's frame axis. A per-frame array (keypoints, ...)
of A becomes one of B by taking, for each frame of B, A's row at its best-matching frame (hard alignment) or the
linear interpolation at its expected position (soft alignment). A's audio is re-timed so that B's time t plays A's
aligned time.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from gtalign.apps.alignment import Alignment
from gtalign.errors import GtalignError, describe
from gtalign.io import atomic_save_npy, atomic_write_text

TRACK_SUFFIXES = (".npy", ".csv")


def transfer_track(track: np.ndarray, alignment: Alignment) -> np.ndarray:
    """A's per-frame array (N_a, ...) on B's timeline: (N_b, ...).

    `alignment` aligns B (its rows, N_b frames) to A (its columns, N_a frames).
    """
    track = np.asarray(track)
    n_b, n_a = alignment.cost.shape
    check_track(track, n_a)
    if not alignment.soft or not np.issubdtype(track.dtype, np.floating):
        return track[alignment.best_match]
    pos = np.clip(alignment.b_of_a, 0, n_a - 1)
    low = np.floor(pos).astype(np.int64)
    high = np.minimum(low + 1, n_a - 1)
    w = (pos - low).reshape(-1, *([1] * (track.ndim - 1)))
    return (1 - w) * track[low] + w * track[high]


def check_track(track: np.ndarray, num_frames: int, name: str = "track") -> None:
    """GtalignError unless `track` has one row per frame of the source video (`num_frames` rows)."""
    if track.ndim == 0 or len(track) != num_frames:
        raise GtalignError(f"{name} must have one row per frame of the source video ({num_frames}), "
                           f"got {describe(track)}")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_track(path: str | Path) -> tuple[np.ndarray, list[str] | None]:
    """A per-frame array from `.npy` (any shape, frames first) or `.csv` (a row per frame, optional header row)."""
    path = Path(path)
    if path.suffix.lower() not in TRACK_SUFFIXES or not path.is_file():
        raise GtalignError(f"--track must be an existing .npy or .csv file with one row per frame, got {path}")
    if path.suffix.lower() == ".npy":
        try:
            return np.load(path, allow_pickle=False), None
        except (ValueError, OSError) as e:
            raise GtalignError(f"cannot read {path} as a numpy array: {e}") from e
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row]
    header = rows[0] if rows and not all(_is_number(x) for x in rows[0]) else None
    body = rows[1:] if header else rows
    if not body or len({len(r) for r in body}) != 1 or not all(_is_number(x) for r in body for x in r):
        raise GtalignError(f"{path}: expected a numeric CSV with the same number of columns on every row")
    return np.array([[float(x) for x in r] for r in body]), header


def write_track(path: str | Path, track: np.ndarray, header: list[str] | None = None) -> Path:
    """Write a per-frame array as `.npy` or `.csv` (by suffix) atomically."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        atomic_save_npy(path, track)
        return path
    rows = [",".join(header)] if header else []
    rows += [",".join(repr(float(x)) for x in np.atleast_1d(row)) for row in track.reshape(len(track), -1)]
    atomic_write_text(path, "\n".join(rows) + "\n")
    return path


def audio_time_map(alignment: Alignment, fps_a: float, fps_b: float) -> tuple[np.ndarray, np.ndarray]:
    """Knots (times on B (N_b + 1,), aligned times on A (N_b + 1,)) in seconds, non-decreasing for audio.

    Frame j of B starts at j / fps_b and plays A from its aligned position; the last knot ends B's last frame.
    """
    pos = np.maximum.accumulate(alignment.b_of_a)
    n_b = len(pos)
    return np.arange(n_b + 1) / fps_b, np.r_[pos, pos[-1] + 1.0] / fps_a
