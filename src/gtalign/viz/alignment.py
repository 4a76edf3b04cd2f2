"""The alignment plot: a cost matrix as an image with the warping path drawn over it."""
from __future__ import annotations

from pathlib import Path

import matplotlib.patches
import numpy as np

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.viz.figure import saved_figure


def check_path(path_pairs: np.ndarray, n: int, m: int, name: str = "path") -> np.ndarray:
    """Index pairs as int64 (P, 2) with 0 <= i < n and 0 <= j < m; GtalignError otherwise."""
    pairs = np.asarray(path_pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0 or not np.issubdtype(pairs.dtype, np.integer):
        raise GtalignError(f"{name} must be a non-empty integer array of index pairs (P, 2), got {describe(pairs)}")
    if pairs[:, 0].min() < 0 or pairs[:, 0].max() >= n or pairs[:, 1].min() < 0 or pairs[:, 1].max() >= m:
        raise GtalignError(f"{name} indices must lie in [0, {n}) x [0, {m}), got rows {pairs[:, 0].min()}.."
                           f"{pairs[:, 0].max()} and columns {pairs[:, 1].min()}..{pairs[:, 1].max()}")
    return pairs.astype(np.int64)


def plot_alignment(cost: np.ndarray, path: np.ndarray, out_png: str | Path, title: str = "",
                   labels: tuple[str, str] = ("video A frame", "video B frame"),
                   span: tuple[tuple[int, int], tuple[int, int]] | None = None,
                   unsure: np.ndarray | None = None) -> Path:
    """Save the cost matrix `cost` (N, M) as an image (rows: frames of A) with `path` (P, 2) drawn over it.

    `span`, ((a_first, a_last), (b_first, b_last)), outlines the matched part of both videos. `unsure` (N,) bool
    marks the frames of A whose position is unsure (`gtalign.apps.align.unsure_json`): their path steps are drawn
    in orange. Returns `out_png`.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.size == 0:
        raise GtalignError(f"cost must be a non-empty (N, M) matrix, got {describe(cost)}")
    check_finite("cost", cost)
    pairs = check_path(path, *cost.shape)
    n, m = cost.shape
    with saved_figure(out_png, (6.0, 6.0 * min(max(n / m, 0.4), 2.5))) as (fig, ax):
        image = ax.imshow(cost, origin="upper", aspect="auto", cmap="viridis", interpolation="nearest",
                          extent=(-0.5, m - 0.5, n - 0.5, -0.5))
        fig.colorbar(image, ax=ax, label="frame cost")
        ax.plot(pairs[:, 1], pairs[:, 0], color="red", linewidth=1.5, label="alignment path")
        if unsure is not None:
            if len(unsure) != n:
                raise GtalignError(f"unsure must have one flag per frame of A ({n}), got {describe(unsure)}")
            marked = pairs[np.asarray(unsure, dtype=bool)[pairs[:, 0]]]
            if len(marked):
                ax.scatter(marked[:, 1], marked[:, 0], s=6, color="orange", zorder=3, label="unsure position")
        if span is not None:
            (a0, a1), (b0, b1) = span
            ax.add_patch(matplotlib.patches.Rectangle((b0 - 0.5, a0 - 0.5), b1 - b0 + 1, a1 - a0 + 1, fill=False,
                                                      edgecolor="white", linestyle="--", label="matched span"))
        ax.set_xlabel(labels[1])
        ax.set_ylabel(labels[0])
        ax.set_title(title or f"alignment of {n} x {m} frames")
        ax.legend(loc="lower left", fontsize="small")
    return Path(out_png)


