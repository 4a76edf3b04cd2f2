"""smoothDTW of two long sequences in memory that grows with ``sqrt(N) * M``, not ``N * M``.

:func:`gtalign.ops.smooth_dtw` keeps the cost matrix, the whole table and three local derivatives per cell for its
backward: ``(N + 1) * (M + 1) * 5`` values, 8 GB in float32 at N = M = 20,000. Here the cost is never held whole.
The rows are swept in blocks of ``K`` rows (``K = ceil(sqrt(N))`` by default):

- forward: each block's costs are computed from its K frames of x and all of y and swept along the block's
  anti-diagonals (the batch kernels' recursion, local softmin and vectorized sweep, ``gtalign.ops.dtw_numba``, on
  the block laid out by diagonal), and only the row above each block is kept (a checkpoint);
- backward: the blocks are taken last to first; each one's costs and rows are recomputed from its checkpoint, the
  adjoint ``G[i, j] = g[i, j] + G[i, j+1] d_left[i, j+1] + G[i+1, j+1] d_diag[i+1, j+1] + G[i+1, j] d_up[i+1, j]``
  is swept through it with the first row of the block below carried over, and ``G`` (the expected alignment of the
  block's rows) is sent back through the named cost to the frames of x and y (autograd on the block's costs).

Memory: ``N / K + 1`` checkpoint rows and one block of ``K x M`` costs, table, derivatives and adjoints, about
``8 sqrt(N) M`` values (90 MB in float32 at N = M = 20,000; the peak measured with torch's temporaries is about
3x that, benchmarks/dtw_long.py). Time: the forward twice and the backward once, with the costs computed twice
(matrix products). One pair at a time; the sweep runs on one thread, the cost products on torch's threads.
"""
from __future__ import annotations

import math
from typing import Callable, Literal

import numpy as np
import torch
from numba import njit
from torch.autograd.function import once_differentiable

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.ops.costs import cosine_cost, sqeuclidean_cost
from gtalign.ops.dtw_numba import _adjoint_diagonal, sweep_relaxed
from gtalign.ops.fastmath import FASTMATH
from gtalign.ops.smoothmin import RELAXATION_CODES, Relaxation, check_gamma, check_relaxation
from gtalign.registry import check_choice, choices

#: The named costs of two frames that a long alignment computes block by block.
LongCost = Literal["sqeuclidean", "cosine", "negative_dot"]
_COSTS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "sqeuclidean": lambda x, y: sqeuclidean_cost(x, y, validate=False),
    "cosine": lambda x, y: cosine_cost(x, y, validate=False),
    "negative_dot": lambda x, y: -(x @ y.T),
}


@njit(nogil=True, cache=True)
def _skew(cost, skewed):
    """``skewed[s + j, s] = cost[s - 1, j - 1]``: the block's costs (K, M) by anti-diagonal ``k = s + j`` (rows
    s = 1..K, columns j = 1..M), so that each diagonal is contiguous."""
    k_rows, m = cost.shape
    for s in range(1, k_rows + 1):
        for j in range(1, m + 1):
            skewed[s + j, s] = cost[s - 1, j - 1]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _block_forward(cost, above, gamma, big, code, table, d, last):
    """Sweep one block of K rows along its anti-diagonals, from the row above it.

    In skewed coordinates (``[k, s]`` for cell (s, j), ``k = s + j``; s = 0 the row above, s = 1..K the block,
    j = 0 the border): ``table[k, s] = cost + softmin(left table[k-1, s], diagonal table[k-2, s-1], up
    table[k-1, s-1])`` (the batch kernels' sweep, vectorized along the diagonal), derivatives into ``d[:, k, s]``.
    ``big`` (the dtype's largest value) stands for +inf, as in the batch kernels. Shapes: cost (K, M) (natural
    layout), above (M+1,), table (K+M+1, K+1), d (3, K+M+2, K+2) zeroed by the caller, last (M+1,) <- the block's
    last row.
    """
    k_rows, m = cost.shape
    inv_gamma = 1.0 / gamma
    skewed = np.zeros((k_rows + m + 1, k_rows + 1), cost.dtype)
    _skew(cost, skewed)
    table[:] = big
    for j in range(m + 1):
        table[j, 0] = above[j]
    for k in range(2, k_rows + m + 1):
        lo, hi = max(1, k - m), min(k_rows, k - 1)
        sweep_relaxed(code, hi - lo + 1, table[k - 1, lo:], table[k - 2, lo - 1:], table[k - 1, lo - 1:],
                      skewed[k, lo:], table[k, lo:], gamma, inv_gamma, d[0, k, lo:], d[1, k, lo:], d[2, k, lo:])
    last[0] = big
    for j in range(1, m + 1):
        last[j] = table[k_rows + j, k_rows]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _block_backward(d, g_below, d_below, seed, grad):
    """The adjoint of one block, diagonal by diagonal from the last: ``G[s, j] = g + G[s, j+1] d_left[s, j+1] +
    G[s+1, j+1] d_diag[s+1, j+1] + G[s+1, j] d_up[s+1, j]`` in the skewed coordinates of :func:`_block_forward`,
    with the row below the block (s = K+1: its adjoints ``g_below`` (M,) and derivatives ``d_below`` (3, M); zeros
    under the table's last row) and ``seed`` (the score's gradient) at the block's last cell. ``d`` (3, K+M+2,
    K+2) from the forward; ``grad`` (K, M) <- the gradient with respect to the block's costs."""
    k_rows, m = grad.shape
    below = k_rows + 1
    for j in range(1, m + 1):
        for c in range(3):
            d[c, below + j, below] = d_below[c, j - 1]
    adj = np.zeros((k_rows + m + 3, k_rows + 2), d.dtype)
    for j in range(1, m + 1):
        adj[below + j, below] = g_below[j - 1]
    zeros = np.zeros(k_rows + 2, d.dtype)
    for k in range(k_rows + m, 1, -1):
        lo, hi = max(1, k - m), min(k_rows, k - 1)
        _adjoint_diagonal(hi - lo + 1, zeros[lo:], adj[k + 1, lo:], adj[k + 2, lo + 1:], adj[k + 1, lo + 1:],
                          d[0, k + 1, lo:], d[1, k + 2, lo + 1:], d[2, k + 1, lo + 1:], adj[k, lo:])
        if k == k_rows + m:
            adj[k, k_rows] += seed
    for s in range(1, k_rows + 1):
        for j in range(1, m + 1):
            grad[s - 1, j - 1] = adj[s + j, s]


def _blocks(n: int, block: int) -> list[tuple[int, int]]:
    return [(lo, min(n, lo + block)) for lo in range(0, n, block)]


def _sweep(x: torch.Tensor, y: torch.Tensor, lo: int, hi: int, above: np.ndarray, state: "_State"):
    """Costs of rows lo..hi-1 and their sweep from the row `above`: (last row (M+1,), derivatives d)."""
    with torch.no_grad():
        cost = state.cost_fn(x[lo:hi], y).numpy()
    k_rows, m = cost.shape
    dtype = cost.dtype
    table = np.empty((k_rows + m + 1, k_rows + 1), dtype)
    d = np.zeros((3, k_rows + m + 2, k_rows + 2), dtype)
    last = np.empty(m + 1, dtype)
    _block_forward(cost, above, dtype.type(state.gamma), dtype.type(np.finfo(dtype).max), state.code, table, d, last)
    return last, d


class _State:
    def __init__(self, cost_fn, gamma: float, code: int, block: int) -> None:
        self.cost_fn, self.gamma, self.code, self.block = cost_fn, gamma, code, block
        self.checkpoints: list[np.ndarray] = []


class _LongDTW(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, state: _State):
        x, y = x.detach(), y.detach()
        m = y.shape[0]
        dtype = torch.empty(0, dtype=x.dtype).numpy().dtype
        row = np.full(m + 1, np.finfo(dtype).max, dtype=dtype)
        row[0] = 0.0
        for lo, hi in _blocks(x.shape[0], state.block):
            state.checkpoints.append(row)
            row, _ = _sweep(x, y, lo, hi, row, state)
        ctx.state = state
        ctx.save_for_backward(x, y)
        return torch.tensor(row[m], dtype=x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        state: _State = ctx.state
        m = y.shape[0]
        dtype = state.checkpoints[0].dtype
        g_below, d_below = np.zeros(m, dtype), np.zeros((3, m), dtype)
        grad_x, grad_y = torch.zeros_like(x), torch.zeros_like(y)
        blocks = _blocks(x.shape[0], state.block)
        for k in range(len(blocks) - 1, -1, -1):
            lo, hi = blocks[k]
            _, d = _sweep(x, y, lo, hi, state.checkpoints[k], state)
            g = np.empty((hi - lo, m), dtype)
            seed = float(grad) if k == len(blocks) - 1 else 0.0
            _block_backward(d, g_below, d_below, dtype.type(seed), g)
            with torch.enable_grad():
                xb, yl = x[lo:hi].detach().requires_grad_(True), y.detach().requires_grad_(True)
                gx, gy = torch.autograd.grad(state.cost_fn(xb, yl), (xb, yl), torch.from_numpy(g))
            grad_x[lo:hi] = gx
            grad_y += gy
            g_below, d_below = g[0].copy(), d[:, 2:m + 2, 1].copy()  # the block's first row (s = 1, k = 1 + j)
        return grad_x, grad_y, None


def _check_sequence(name: str, t) -> torch.Tensor:
    if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.dim() != 2 or 0 in t.shape:
        raise GtalignError(f"{name} must be a floating-point torch.Tensor (frames, D) with at least one frame, "
                           f"got {describe(t)}")
    if t.device.type != "cpu":
        raise GtalignError(f"{name} must be on the CPU (the long-sequence sweep is a CPU kernel), got {t.device}")
    check_finite(name, t)
    return t


def long_smooth_dtw(x: torch.Tensor, y: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
                    cost: LongCost = "sqeuclidean", block: int | None = None) -> torch.Tensor:
    """The smoothDTW score of two long sequences, without the N x M cost matrix or table.

    Equal to ``smooth_dtw(named_cost(x, y), gamma, relaxation)`` (to rounding), in memory that grows with
    ``sqrt(N) * M`` (module docstring).

    Args:
        x: ``(N, D)`` float32 or float64 frames on the CPU (the longer sequence as x uses less memory).
        y: ``(M, D)``, same dtype.
        gamma: ``>= 0``; 0 gives the hard DTW score.
        relaxation: ``"smoothmin"``, ``"min_gamma"`` (soft-DTW) or ``"hard"``, as in :func:`gtalign.ops.smooth_dtw`.
        cost: ``"sqeuclidean"`` (``|x_i - y_j|^2``), ``"cosine"`` (``1 - cos``) or ``"negative_dot"``
            (``-x_i . y_j``).
        block: rows per block (default ``ceil(sqrt(N))``): larger is faster and takes more memory.
    Returns:
        A scalar tensor, differentiable with respect to x and y (first derivatives).
    """
    x, y = _check_sequence("x", x), _check_sequence("y", y)
    if x.shape[1] != y.shape[1] or x.dtype != y.dtype:
        raise GtalignError(f"x and y must have the same feature size D and dtype, got {describe(x)} and {describe(y)}")
    if x.dtype not in (torch.float32, torch.float64):
        raise GtalignError(f"x and y must be float32 or float64, got {x.dtype}")
    gamma = check_gamma(gamma)
    relaxation = "hard" if gamma == 0 else check_relaxation(relaxation)
    cost_name = check_choice("cost", cost, choices(LongCost))
    if block is None:
        block = math.ceil(math.sqrt(x.shape[0]))
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise GtalignError(f"block must be a whole number of rows >= 1, got {block!r}")
    state = _State(_COSTS[cost_name], gamma if relaxation != "hard" else 1.0, RELAXATION_CODES[relaxation], block)
    return _LongDTW.apply(x, y, state)
