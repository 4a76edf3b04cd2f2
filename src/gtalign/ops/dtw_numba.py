"""Differentiable DTW on the CPU: numba kernels with the batch as SIMD lanes.

The batch is split into chunks of ``LANES`` pairs; each chunk is swept row by row by one thread
(``numba.prange`` over chunks). Inside a row, cell ``j`` depends on cell ``j - 1``, but the ``LANES`` pairs of
a chunk are independent, so every cell update is one vector operation over the lanes. The forward keeps only
two rows of ``R`` (in L1 cache) and stores each cell's three local softmin derivatives
``d (chunks, N+1, M+1, 3, LANES)`` (last row and column zero); the backward sweeps the adjoint
``G[i, j] = g[i, j] + G[i, j+1] d_left[i, j+1] + G[i+1, j+1] d_diag[i+1, j+1] + G[i+1, j] d_up[i+1, j]``
in reverse with two rows as well. Cost and gradients are read and written in the caller's ``(B, N, M)`` layout,
one row at a time. Inputs are validated by :mod:`gtalign.ops.dtw`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import torch
from numba import njit, prange

from gtalign.ops.fastmath import FASTMATH, exp_nonpos, like, log_1_to_3

#: Pairs per SIMD chunk (one AVX-512 register of float64, two AVX2 registers of float32).
LANES = 8
_RELAXATION_CODES = {"smoothmin": 0, "min_gamma": 1, "hard": 2}


@njit(inline="always", fastmath=FASTMATH)
def _local_softmin(left, diag, up, gamma, inv_gamma, relaxation):
    """Value of the three-way softmin and its derivatives (d_left, d_diag, d_up); see smoothmin.softmin3."""
    zero, one = like(0.0, left), like(1.0, left)
    low = min(left, min(diag, up))
    if relaxation == 2:  # hard: one-hot of the first minimum in the order left, diag, up
        d_left = one if left == low else zero
        d_diag = one if (diag == low and left != low) else zero
        return low, d_left, d_diag, one - d_left - d_diag
    r_left, r_diag, r_up = left - low, diag - low, up - low
    e_left = exp_nonpos(-r_left * inv_gamma)
    e_diag = exp_nonpos(-r_diag * inv_gamma)
    e_up = exp_nonpos(-r_up * inv_gamma)
    inv_sum = one / (e_left + e_diag + e_up)
    w_left, w_diag, w_up = e_left * inv_sum, e_diag * inv_sum, e_up * inv_sum
    if relaxation == 1:  # min_gamma: value = low - gamma log(sum), derivatives are the weights
        return low - gamma * log_1_to_3(e_left + e_diag + e_up), w_left, w_diag, w_up
    # smoothmin: derivative w_k (1 - (r_k - excess)/gamma); 0 where the weight is 0 (the border)
    excess = w_left * r_left + w_diag * r_diag + w_up * r_up
    d_left = w_left * (one - (r_left - excess) * inv_gamma) if w_left > zero else zero
    d_diag = w_diag * (one - (r_diag - excess) * inv_gamma) if w_diag > zero else zero
    d_up = w_up * (one - (r_up - excess) * inv_gamma) if w_up > zero else zero
    return low + excess, d_left, d_diag, d_up


@njit(inline="always")
def _chunk_lengths(len_x, len_y, b0, lanes_used):
    """Per-lane lengths of a chunk; unused lanes get length 0 (every cell padded)."""
    lx = np.zeros(LANES, np.int64)
    ly = np.zeros(LANES, np.int64)
    for lane in range(lanes_used):
        lx[lane] = len_x[b0 + lane]
        ly[lane] = len_y[b0 + lane]
    return lx, ly


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def _forward_kernel(cost, len_x, len_y, gamma, big, relaxation, d, score, table):
    """Fill ``d``, ``score (B,)`` and, when ``table`` is ``(B, N+1, M+1)`` (not empty), the table."""
    batch, n, m = cost.shape
    inv_gamma = like(1.0, gamma) / gamma
    zero, inf = like(0.0, gamma), like(np.inf, gamma)
    for chunk in prange(d.shape[0]):
        b0 = chunk * LANES
        used = min(LANES, batch - b0)
        lx, ly = _chunk_lengths(len_x, len_y, b0, used)
        prev = np.full((m + 1, LANES), big)
        cur = np.full((m + 1, LANES), big)
        cost_row = np.zeros((m, LANES), cost.dtype)
        prev[0, :] = zero
        d[chunk, n, :, :, :] = zero
        for i in range(1, n + 1):
            for lane in range(used):
                for j in range(m):
                    cost_row[j, lane] = cost[b0 + lane, i - 1, j]
            d[chunk, i - 1, m, :, :] = zero
            cur[0, :] = big  # column 0 of the border
            for j in range(1, m + 1):
                for lane in range(LANES):
                    value, d_left, d_diag, d_up = _local_softmin(
                        cur[j - 1, lane], prev[j - 1, lane], prev[j, lane], gamma, inv_gamma, relaxation)
                    cur[j, lane] = cost_row[j - 1, lane] + value
                    valid = i <= lx[lane] and j <= ly[lane]
                    d[chunk, i - 1, j - 1, 0, lane] = d_left if valid else zero
                    d[chunk, i - 1, j - 1, 1, lane] = d_diag if valid else zero
                    d[chunk, i - 1, j - 1, 2, lane] = d_up if valid else zero
            for lane in range(used):
                if i == lx[lane]:
                    score[b0 + lane] = cur[ly[lane], lane]
                if table.shape[0] > 0:
                    for j in range(1, m + 1):
                        table[b0 + lane, i, j] = cur[j, lane] if (i <= lx[lane] and j <= ly[lane]) else inf
            prev, cur = cur, prev
        if table.shape[0] > 0:
            for lane in range(used):
                table[b0 + lane, 0, :] = inf
                table[b0 + lane, :, 0] = inf
                table[b0 + lane, 0, 0] = zero


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def _backward_kernel(d, len_x, len_y, grad_score, grad_table, out):
    """Gradient ``out (B, N, M)`` from ``grad_score (B,)``, or from ``grad_table (B, N+1, M+1)`` if not empty."""
    batch, n, m = out.shape
    from_table = grad_table.shape[0] > 0
    zero = like(0.0, d[0, 0, 0, 0, 0])
    for chunk in prange(d.shape[0]):
        b0 = chunk * LANES
        used = min(LANES, batch - b0)
        lx, ly = _chunk_lengths(len_x, len_y, b0, used)
        g_corner = np.zeros(LANES, d.dtype)
        if not from_table:
            for lane in range(used):
                g_corner[lane] = grad_score[b0 + lane]
        g_next = np.zeros((m + 2, LANES), d.dtype)
        g_cur = np.zeros((m + 2, LANES), d.dtype)
        g_in = np.zeros((m + 1, LANES), d.dtype)
        for i in range(n, 0, -1):
            if from_table:
                for lane in range(used):
                    for j in range(1, m + 1):
                        g_in[j, lane] = grad_table[b0 + lane, i, j]
            for j in range(m, 0, -1):
                for lane in range(LANES):
                    if from_table:
                        g = g_in[j, lane]
                    else:
                        g = g_corner[lane] if (i == lx[lane] and j == ly[lane]) else zero
                    g += (g_cur[j + 1, lane] * d[chunk, i - 1, j, 0, lane]
                          + g_next[j + 1, lane] * d[chunk, i, j, 1, lane]
                          + g_next[j, lane] * d[chunk, i, j - 1, 2, lane])
                    g_cur[j, lane] = g if (i <= lx[lane] and j <= ly[lane]) else zero
            for lane in range(used):
                for j in range(m):
                    out[b0 + lane, i - 1, j] = g_cur[j + 1, lane]
            g_next, g_cur = g_cur, g_next


@dataclass
class NumbaState:
    """What the backward needs: the stored derivatives and the lengths."""

    d: np.ndarray
    len_x: np.ndarray
    len_y: np.ndarray
    shape: tuple[int, int, int]
    dtype: torch.dtype


def _set_threads(chunks: int) -> None:
    numba.set_num_threads(max(1, min(chunks, torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


def forward(cost: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, gamma: float, relaxation: str,
            table: bool) -> tuple[torch.Tensor, NumbaState]:
    """DTW of ``cost (B, N, M)`` (contiguous CPU): scores ``(B,)`` or the table ``(B, N+1, M+1)``, and state."""
    b, n, m = cost.shape
    dtype = cost.numpy().dtype
    chunks = -(-b // LANES)
    d = np.empty((chunks, n + 1, m + 1, 3, LANES), dtype)
    score = torch.empty(b, dtype=cost.dtype)
    out_table = torch.empty((b, n + 1, m + 1) if table else (0, 0, 0), dtype=cost.dtype)
    lx, ly = len_x.numpy(), len_y.numpy()
    _set_threads(chunks)
    _forward_kernel(cost.numpy(), lx, ly, dtype.type(gamma), dtype.type(np.finfo(dtype).max),
                    _RELAXATION_CODES[relaxation], d, score.numpy(), out_table.numpy())
    state = NumbaState(d=d, len_x=lx, len_y=ly, shape=(b, n, m), dtype=cost.dtype)
    return (out_table if table else score), state


def backward(state: NumbaState, grad: torch.Tensor) -> torch.Tensor:
    """Gradient ``(B, N, M)`` with respect to the cost, from the gradient of the scores ``(B,)`` or of the
    table ``(B, N+1, M+1)``; border and padded cells of the table are ignored."""
    grad = grad.to(state.dtype).contiguous()
    out = torch.empty(state.shape, dtype=state.dtype)
    empty = np.zeros((0, 0, 0), state.d.dtype)
    by_table = grad.dim() == 3
    grad_score = np.zeros(0, state.d.dtype) if by_table else grad.numpy()
    _set_threads(state.d.shape[0])
    _backward_kernel(state.d, state.len_x, state.len_y, grad_score, grad.numpy() if by_table else empty, out.numpy())
    return out
