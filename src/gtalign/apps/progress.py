"""`gtalign progress`: per-frame action progress (0 to 1) of a video from its alignment to a reference.

The reference shows the whole action, start to end, in its M frames. Frame i of the video is at progress
b(i) / (M - 1), where b(i) is its best-matching frame of the reference (`Alignment.best_match`; the expected
position for a soft alignment). A video that starts late or stops early therefore starts above 0 or ends below 1:
the DTW path matches its first (last) frame to a run of reference frames, and the best match within the run is the
one showing the same moment.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from gtalign.apps.alignment import Alignment
from gtalign.io import atomic_write_text
from gtalign.viz.progress import plot_progress


def progress_from_alignment(alignment: Alignment) -> np.ndarray:
    """(N,) float64 progress in [0, 1] of each frame of the aligned video (A) along the reference (B)."""
    m = alignment.cost.shape[1]
    if m == 1:
        return np.zeros(len(alignment.b_of_a))
    position = alignment.b_of_a if alignment.soft else alignment.best_match
    return np.clip(position / (m - 1), 0.0, 1.0)


def progress_csv(progress: np.ndarray, fps: float) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("frame", "time_s", "progress"))
    for i, p in enumerate(progress):
        writer.writerow([i, f"{i / fps:.6f}", f"{p:.6f}"])
    return out.getvalue()


def write_progress(progress: np.ndarray, fps: float, out_dir: str | Path, title: str = "") -> None:
    """`progress.csv` (frame, time_s, progress) and `progress.png` in `out_dir`."""
    out = Path(out_dir)
    atomic_write_text(out / "progress.csv", progress_csv(progress, fps))
    plot_progress(progress, fps, out / "progress.png", title)
