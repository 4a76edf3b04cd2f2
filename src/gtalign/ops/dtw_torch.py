"""Differentiable DTW in plain torch, vectorized along anti-diagonals; runs on any device.

The table is kept "skewed": ``S[b, k, i] = R[b, i, k - i]``, so the cells of the anti-diagonal ``i + j = k``
are a contiguous slice and their three predecessors are slices of diagonals ``k - 1`` and ``k - 2``:
left ``R[i, j-1] = S[k-1, i]``, up ``R[i-1, j] = S[k-1, i-1]``, diagonal ``R[i-1, j-1] = S[k-2, i-1]``.

The forward sweep stores each cell's derivatives with respect to its three predecessors; the backward sweep
accumulates the adjoint ``G[i, j] = g[i, j] + sum over successors s of G[s] dR[s]/dR[i, j]`` in reverse.
Inputs are validated by :mod:`gtalign.ops.dtw`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gtalign.ops.smoothmin import softmin3


@dataclass
class TorchState:
    """What the backward needs: derivatives ``d (B, N+M+3, N+2, 3)`` in skewed layout, and the shapes."""

    d: torch.Tensor
    len_x: torch.Tensor
    len_y: torch.Tensor
    n: int
    m: int
    with_top: bool = False


def _skew_index(n: int, m: int, width: int, device) -> torch.Tensor:
    """Flat index of cell ``(i, j)`` in a skewed table of row width ``width``: ``(n+1, m+1)`` int64."""
    i = torch.arange(n + 1, device=device)[:, None]
    j = torch.arange(m + 1, device=device)[None, :]
    return (i + j) * width + i


def _valid_cells(len_x: torch.Tensor, len_y: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """``(B, N+1, M+1)`` bool: cells ``1 <= i <= len_x``, ``1 <= j <= len_y`` of each pair."""
    i = torch.arange(n + 1, device=len_x.device)
    j = torch.arange(m + 1, device=len_x.device)
    rows = (i >= 1)[None, :] & (i[None, :] <= len_x[:, None])
    cols = (j >= 1)[None, :] & (j[None, :] <= len_y[:, None])
    return rows[:, :, None] & cols[:, None, :]


def _diagonal(k: int, n: int, m: int) -> tuple[int, int]:
    """The range ``lo..hi`` (inclusive) of rows i of the table cells (i, k - i), 1 <= i <= n, 1 <= k-i <= m."""
    return max(1, k - m), min(n, k - 1)


def _last_row(len_x: torch.Tensor, m: int, width: int) -> torch.Tensor:
    """``(B, M)`` flat skewed index of the cells ``(len_x, j)``, ``j = 1..M``."""
    j = torch.arange(1, m + 1, device=len_x.device)
    return (len_x[:, None] + j[None, :]) * width + len_x[:, None]


def forward(cost: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, gamma: float, relaxation: str,
            output: str, top: torch.Tensor | None = None) -> tuple[torch.Tensor, TorchState]:
    """DTW of ``cost (B, N, M)`` from row 0 `top` ``(B, M+1)`` (None: 0 then +inf): returns the scores ``(B,)``,
    the last rows ``(B, M)`` (+inf past ``len_y``) or the tables ``(B, N+1, M+1)`` (+inf border and padding), as
    `output` says, and the state for :func:`backward`."""
    b, n, m = cost.shape
    width = n + 2
    big = torch.finfo(cost.dtype).max
    s = cost.new_full((b, n + m + 3, width), big)
    s[:, 0, 0] = 0
    if top is not None:
        s[:, :m + 1, 0] = top.clamp_max(big)  # R[0, k] is the skewed cell [k, 0]
    d = cost.new_zeros((b, n + m + 3, width, 3))
    flat_cost = cost.reshape(b, n * m)
    i_all = torch.arange(1, n + 1, device=cost.device)
    for k in range(2, n + m + 1):
        lo, hi = _diagonal(k, n, m)
        rows = i_all[lo - 1:hi]
        a = torch.stack((s[:, k - 1, lo:hi + 1], s[:, k - 2, lo - 1:hi], s[:, k - 1, lo - 1:hi]), dim=-1)
        value, dk = softmin3(a, gamma, relaxation)
        s[:, k, lo:hi + 1] = value + flat_cost[:, (rows - 1) * m + (k - rows - 1)]
        valid = (rows[None, :] <= len_x[:, None]) & ((k - rows)[None, :] <= len_y[:, None])
        d[:, k, lo:hi + 1] = dk * valid[:, :, None]
    state = TorchState(d=d, len_x=len_x, len_y=len_y, n=n, m=m, with_top=top is not None)
    if output == "score":
        return s[torch.arange(b, device=cost.device), len_x + len_y, len_x], state
    if output == "row":
        row = s.reshape(b, -1).gather(1, _last_row(len_x, m, width))
        past = torch.arange(1, m + 1, device=cost.device)[None, :] > len_y[:, None]
        return row.masked_fill(past, float("inf")), state
    index = _skew_index(n, m, width, cost.device).reshape(-1)
    r = s.reshape(b, -1)[:, index].reshape(b, n + 1, m + 1)
    r = r.masked_fill(~_valid_cells(len_x, len_y, n, m), float("inf"))
    r[:, 0, 0] = 0
    if top is not None:
        r[:, 0, :] = top
    return r, state


def backward(state: TorchState, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Gradients with respect to the cost ``(B, N, M)`` and to row 0 ``(B, M+1)`` (None for the plain border)
    given the gradient of the output of :func:`forward`: ``(B,)`` for scores, ``(B, M)`` for last rows or
    ``(B, N+1, M+1)`` for tables (border and padded cells are ignored)."""
    d, n, m = state.d, state.n, state.m
    b, _, width = d.shape[:3]
    index = _skew_index(n, m, width, d.device)
    g_in = d.new_zeros((b, d.shape[1] * width))
    if grad.dim() == 1:
        corner = index[state.len_x, state.len_y]
        g_in[torch.arange(b, device=d.device), corner] = grad
    elif grad.dim() == 2:
        inside = torch.arange(1, m + 1, device=d.device)[None, :] <= state.len_y[:, None]
        g_in.scatter_(1, _last_row(state.len_x, m, width), torch.where(inside, grad, torch.zeros_like(grad)))
    else:
        valid = _valid_cells(state.len_x, state.len_y, n, m)
        g_in[:, index.reshape(-1)] = torch.where(valid, grad, torch.zeros_like(grad)).reshape(b, -1)
    g_in = g_in.reshape(b, -1, width)
    g = torch.zeros_like(g_in)
    for k in range(n + m, 1, -1):
        lo, hi = _diagonal(k, n, m)
        g[:, k, lo:hi + 1] = (g_in[:, k, lo:hi + 1]
                              + g[:, k + 1, lo:hi + 1] * d[:, k + 1, lo:hi + 1, 0]
                              + g[:, k + 2, lo + 1:hi + 2] * d[:, k + 2, lo + 1:hi + 2, 1]
                              + g[:, k + 1, lo + 1:hi + 2] * d[:, k + 1, lo + 1:hi + 2, 2])
    grad_cost = g.reshape(b, -1)[:, index[1:, 1:].reshape(-1)].reshape(b, n, m)
    if not state.with_top:
        return grad_cost, None
    # R[0, j] is the up-predecessor of (1, j) (skewed [j+1, 1]) and the diagonal one of (1, j+1) ([j+2, 1])
    grad_top = d.new_zeros((b, m + 1))
    grad_top[:, 1:] += g[:, 2:m + 2, 1] * d[:, 2:m + 2, 1, 2]
    grad_top[:, :m] += g[:, 2:m + 2, 1] * d[:, 2:m + 2, 1, 1]
    return grad_cost, grad_top
