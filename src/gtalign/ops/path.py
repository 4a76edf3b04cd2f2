"""The hard optimal DTW warping path, by backtracking through the hard DTW table, and its per-row mapping."""
from __future__ import annotations

import numpy as np
import torch

from gtalign.errors import GtalignError, describe
from gtalign.ops.band import Band
from gtalign.ops.dtw import smooth_dtw_table


def dtw_path(cost: torch.Tensor | np.ndarray, band: Band = None) -> torch.Tensor | np.ndarray:
    """Optimal (hard DTW) warping path of one cost matrix.

    Args:
        cost: ``(N, M)`` finite costs (torch tensor or numpy array).
        band: a Sakoe-Chiba band the path keeps within (`gtalign.ops.band`), None for none.
    Returns:
        ``(P, 2)`` int64 index pairs ``(i, j)`` from ``(0, 0)`` to ``(N-1, M-1)``, each step moving by
        ``(0, 1)``, ``(1, 1)`` or ``(1, 0)``; same array type as ``cost``. Ties prefer the diagonal step, then up,
        then left. The sum of ``cost`` over the path is the hard DTW score.
    """
    is_numpy = isinstance(cost, np.ndarray)
    tensor = torch.from_numpy(cost) if is_numpy else cost
    if not isinstance(tensor, torch.Tensor) or tensor.dim() != 2:
        raise GtalignError(f"cost must be a (N, M) matrix, got {describe(cost)}")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    table = smooth_dtw_table(tensor.detach(), gamma=0.0, relaxation="hard", band=band).cpu().numpy()
    i, j = table.shape[0] - 1, table.shape[1] - 1
    steps = [(i - 1, j - 1)]
    while (i, j) != (1, 1):
        # predecessors in order of preference on ties: diagonal, up, left (border cells are +inf)
        moves = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(moves, key=lambda ij: table[ij])
        steps.append((i - 1, j - 1))
    path = np.asarray(steps[::-1], dtype=np.int64)
    return path if is_numpy else torch.from_numpy(path).to(cost.device)


def path_to_mapping(path: np.ndarray, n: int) -> np.ndarray:
    """For each row i of a warping path (P, 2) covering rows 0..n-1, the mean column matched to it: float64 (n,).

    A DTW path matches every frame of A to one or more consecutive frames of B; their mean is where A's frame
    lies on B's timeline.
    """
    pairs = np.asarray(path)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise GtalignError(f"path must be index pairs (P, 2), got {describe(pairs)}")
    rows = pairs[:, 0].astype(np.int64)
    if rows.min() < 0 or rows.max() >= n:
        raise GtalignError(f"path rows must lie in [0, {n}), got {rows.min()}..{rows.max()}")
    counts = np.bincount(rows, minlength=n)
    if (counts == 0).any():
        raise GtalignError(f"path must match every row 0..{n - 1}; row {int(np.argmin(counts))} is missing")
    return np.bincount(rows, weights=pairs[:, 1].astype(np.float64), minlength=n) / counts
