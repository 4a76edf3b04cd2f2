"""The progress plot: action progress (0 to 1) of each frame against time."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gtalign.errors import GtalignError, describe
from gtalign.viz.figure import saved_figure


def plot_progress(progress: np.ndarray, fps: float, out_png: str | Path, title: str = "") -> Path:
    """Save progress (T,) in [0, 1] against time (s, frame / fps) as a PNG; returns `out_png`."""
    progress = np.asarray(progress, dtype=np.float64)
    if progress.ndim != 1 or len(progress) == 0:
        raise GtalignError(f"progress must be a non-empty 1-D array (T,), got {describe(progress)}")
    with saved_figure(out_png, (7.0, 3.0)) as (_, ax):
        ax.plot(np.arange(len(progress)) / fps, progress)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("progress")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(title or "action progress")
    return Path(out_png)
