"""Subsequence DTW: a query ``x`` (N frames) aligned to the part of a longer reference ``y`` (M frames) that fits it
best, found anywhere inside ``y``.

The path must cover every frame of ``x`` but may start at any frame ``s`` of ``y`` and end at any frame ``e >= s``:
the table's row 0 is free, ``R[0, j] = 0`` for ``j >= 1`` (``R[0, 0] = +inf``), the recursion is smoothDTW's, and
the score is the soft minimum of the last row, ``softmin_j R[N, j]``. With the hard minimum the score is
``min over s <= e`` of the DTW score of ``cost[:, s:e+1]``.

It runs on the one DTW core (every backend, batched, padded lengths, the analytic backward): one sweep from the
free row 0 (``first_row``) returns the table's last row (:func:`gtalign.ops.smooth_dtw_last_row`), over which the
soft minimum is taken; its gradient seeds the backward sweep on that row.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import torch

from gtalign.errors import GtalignError, describe
from gtalign.ops.dtw import _check_cost, _check_lengths, smooth_dtw_last_row
from gtalign.ops.path import dtw_path
from gtalign.ops.smoothmin import Relaxation, check_gamma, check_relaxation, min_gamma, smooth_min


class SubsequenceMatch(NamedTuple):
    """The hard subsequence alignment of one query: its `path` ``(P, 2)`` of ``(i, j)`` pairs (rows ``0..N-1`` of
    the query, columns ``start..end`` of the reference), and its `score` (the sum of the cost over the path)."""

    path: np.ndarray
    start: int
    end: int
    score: float


def _free_row(batch: int, m: int, like: torch.Tensor) -> torch.Tensor:
    """``(B, M+1)``: row 0 of subsequence DTW, ``[+inf, 0, ..., 0]`` (a path may start at any column)."""
    row = like.new_zeros((batch, m + 1))
    row[:, 0] = float("inf")
    return row


def subsequence_dtw(cost: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
                    lengths: Sequence[torch.Tensor] | None = None, backend: str = "auto",
                    validate: bool = True) -> torch.Tensor:
    """The subsequence DTW score of each pair: ``softmin_j R[len_x, j]`` over ``j <= len_y``, row 0 free.

    Arguments as for :func:`gtalign.ops.smooth_dtw` (``cost (B, N, M)`` or ``(N, M)``, the query along N).
    Returns ``(B,)`` scores, or a scalar for an unbatched cost; differentiable with respect to ``cost``.
    """
    cost = _check_cost(cost, validate)
    gamma = check_gamma(gamma)
    relaxation = check_relaxation(relaxation)
    unbatched = cost.dim() == 2
    batch_cost = cost.unsqueeze(0) if unbatched else cost
    batch, n, m = batch_cost.shape
    len_x, len_y = _check_lengths(lengths, batch, n, m, cost.device)
    last = smooth_dtw_last_row(batch_cost, gamma, relaxation, (len_x, len_y), backend, validate=False,
                               first_row=_free_row(batch, m, batch_cost))  # (B, M): R[len_x, 1..M], +inf past len_y
    if gamma == 0 or relaxation == "hard":
        score = last.amin(dim=1)
    else:
        score = (smooth_min if relaxation == "smoothmin" else min_gamma)(last, gamma, dim=1)
    return score.squeeze(0) if unbatched else score


def subsequence_path(cost: torch.Tensor | np.ndarray) -> SubsequenceMatch:
    """The optimal hard subsequence alignment of one cost matrix ``(N, M)`` (the query along N).

    Ties prefer the earliest end, then the path of :func:`gtalign.ops.dtw_path` (diagonal steps first).
    """
    tensor = torch.from_numpy(np.asarray(cost)) if isinstance(cost, np.ndarray) else cost
    if not isinstance(tensor, torch.Tensor) or tensor.dim() != 2:
        raise GtalignError(f"cost must be a (N, M) matrix, got {describe(cost)}")
    tensor = tensor.detach().cpu()
    if not tensor.is_floating_point():
        tensor = tensor.double()
    last = smooth_dtw_last_row(tensor, gamma=0.0, relaxation="hard", first_row=_free_row(1, tensor.shape[1], tensor)[0])
    end = int(torch.argmin(last))
    free = torch.cat([tensor.new_zeros(1, tensor.shape[1]), tensor])  # a row of zero costs on top for the path
    path = np.asarray(dtw_path(free[:, : end + 1].numpy()))
    path = path[path[:, 0] > 0] - np.array([1, 0])  # drop the free row
    return SubsequenceMatch(path, int(path[0, 1]), end, float(last[end]))
