"""Drop-DTW on the CPU: a compiled cell loop per pair with an analytic backward (the recursion of
:mod:`gtalign.ops.drop_dtw`).

The forward fills the four tables ``V (B, 4, N+1, M+1)`` (MM, MD, DM, DD) of each pair row by row and keeps them;
the backward takes the cells in reverse order, recomputes each state's local soft minimum from the kept values and
pushes the state's adjoint to the cells it came from:

    G[pred] += G[state] * d softmin / d pred,   grad C[i-1, j-1] += G[MM],   grad drop_y[j-1] += G[MD],
    grad drop_x[i-1] += G[DM] + G[DD].

Every cell's successors come later in row-major order, so reverse row-major order sees each adjoint complete
before it is pushed on. Candidates at +inf (undefined states, forbidden drops) get weight exactly 0. One pair per
task, the pairs spread over threads (:func:`gtalign.ops.threads.run_chunks`); inputs are validated by the caller.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit, prange
from torch.autograd.function import once_differentiable

from gtalign.errors import GtalignError
from gtalign.ops.buffers import short_of_memory
from gtalign.ops.fastmath import FASTMATH, exp_nonpos
from gtalign.ops.smoothmin import RELAXATION_CODES
from gtalign.ops.threads import run_chunks

_MM, _MD, _DM, _DD = 0, 1, 2, 3
#: Candidates of each state: (state, row offset, column offset) of the cell it may come from.
_MATCH_FROM = ((_MM, 1, 1), (_MD, 1, 1), (_DM, 1, 1), (_DD, 1, 1), (_MM, 1, 0), (_DM, 1, 0), (_MM, 0, 1),
               (_MD, 0, 1))


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _softmin(vals, count, gamma, code, ders):
    """The soft minimum of ``vals[:count]`` (+inf allowed) by relaxation ``code`` (smoothmin 0, min_gamma 1, hard
    2), its derivatives into ``ders[:count]``; +inf with zero derivatives when every value is +inf."""
    low = math.inf
    for k in range(count):
        low = min(low, vals[k])
    if low == math.inf:
        for k in range(count):
            ders[k] = 0.0
        return math.inf
    if code == 2:
        first = True
        for k in range(count):
            ders[k] = 1.0 if (first and vals[k] == low) else 0.0
            if vals[k] == low:
                first = False
        return low
    total, inv_gamma = 0.0, 1.0 / gamma
    for k in range(count):
        ders[k] = exp_nonpos((low - vals[k]) * inv_gamma) if vals[k] != math.inf else 0.0
        total += ders[k]
    excess = 0.0
    for k in range(count):
        ders[k] /= total  # the weights
        if ders[k] > 0.0:
            excess += ders[k] * (vals[k] - low)
    if code == 1:
        return low - gamma * math.log(total)
    for k in range(count):
        if ders[k] > 0.0:
            ders[k] *= 1.0 - (vals[k] - low - excess) * inv_gamma
    return low + excess


@njit(inline="always")
def _candidates(v, state, i, j, vals):
    """The values state `state` of cell (i, j) is a soft minimum over, into ``vals``; their number."""
    if state == _MM:
        for k in range(8):
            s, di, dj = _MATCH_FROM[k]
            vals[k] = v[s, i - di, j - dj]
        return 8
    if state == _MD:  # y_j dropped after x_i's match: from the left
        vals[0], vals[1] = v[_MM, i, j - 1], v[_MD, i, j - 1]
    elif state == _DM:  # x_i dropped: from above
        vals[0], vals[1] = v[_MM, i - 1, j], v[_DM, i - 1, j]
    else:
        vals[0], vals[1] = v[_MD, i - 1, j], v[_DD, i - 1, j]
    return 2


@njit(inline="always")
def _defined(state, i, j):
    """Whether state `state` exists at cell (i, j) (MM needs i, j >= 1, MD j >= 1, DM and DD i >= 1)."""
    if state == _MM:
        return i >= 1 and j >= 1
    return j >= 1 if state == _MD else i >= 1


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _forward_pair(b, cost, drop_x, drop_y, len_x, len_y, gamma, code, tables, score):
    """Fill ``tables[b] (4, N+1, M+1)`` for the pair's ``len_x x len_y`` cells and ``score[b]``."""
    v = tables[b]
    v[:] = math.inf
    v[_MM, 0, 0] = 0.0
    vals, ders = np.empty(8), np.empty(8)
    n, m = len_x[b], len_y[b]
    for i in range(n + 1):
        for j in range(m + 1):
            for state in range(4):
                if not _defined(state, i, j):
                    continue
                count = _candidates(v, state, i, j, vals)
                local = (cost[b, i - 1, j - 1] if state == _MM else drop_y[b, j - 1] if state == _MD
                         else drop_x[b, i - 1])
                v[state, i, j] = local + _softmin(vals, count, gamma, code, ders)
    for state in range(4):
        vals[state] = v[state, n, m]
    score[b] = _softmin(vals, 4, gamma, code, ders)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _backward_pair(b, tables, len_x, len_y, gamma, code, grad, adjoint, grad_cost, grad_x, grad_y):
    """The gradient of ``score[b]`` (times ``grad[b]``) with respect to the pair's costs and drop costs, through the
    adjoint tables ``adjoint[b] (4, N+1, M+1)``."""
    v, g = tables[b], adjoint[b]
    g[:] = 0.0
    vals, ders = np.empty(8), np.empty(8)
    n, m = len_x[b], len_y[b]
    for state in range(4):
        vals[state] = v[state, n, m]
    _softmin(vals, 4, gamma, code, ders)
    for state in range(4):
        g[state, n, m] = grad[b] * ders[state]
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            for state in range(4):
                adj = g[state, i, j]
                if adj == 0.0 or not _defined(state, i, j):
                    continue
                if state == _MM:
                    grad_cost[b, i - 1, j - 1] = adj
                elif state == _MD:
                    grad_y[b, j - 1] += adj
                else:
                    grad_x[b, i - 1] += adj
                count = _candidates(v, state, i, j, vals)
                _softmin(vals, count, gamma, code, ders)
                if state == _MM:
                    for k in range(8):
                        s, di, dj = _MATCH_FROM[k]
                        g[s, i - di, j - dj] += adj * ders[k]
                elif state == _MD:
                    g[_MM, i, j - 1] += adj * ders[0]
                    g[_MD, i, j - 1] += adj * ders[1]
                elif state == _DM:
                    g[_MM, i - 1, j] += adj * ders[0]
                    g[_DM, i - 1, j] += adj * ders[1]
                else:
                    g[_MD, i - 1, j] += adj * ders[0]
                    g[_DD, i - 1, j] += adj * ders[1]


@njit(parallel=True, nogil=True, cache=True)
def _forward_parallel(pairs, *args):
    for b in prange(pairs):
        _forward_pair(b, *args)


@njit(parallel=True, nogil=True, cache=True)
def _backward_parallel(pairs, *args):
    for b in prange(pairs):
        _backward_pair(b, *args)


def check_memory(batch: int, n: int, m: int) -> None:
    """GtalignError before the sweep when the four tables and their adjoints (8 float64 values a cell) exceed the
    free memory."""
    need = 8 * batch * (n + 1) * (m + 1) * 8
    free = short_of_memory(need)
    if free:
        raise GtalignError(f"Drop-DTW of {batch} pair(s) of {n} x {m} frames needs about {need / 1e9:.2g} GB, more "
                           f"than the {free / 1e9:.2g} GB free: align shorter stretches or every k-th frame, or "
                           "fewer pairs at a time (drop_dtw_path gives the hard alignment of a long pair in less)")


class DropDTWFunction(torch.autograd.Function):
    """Scores ``(B,)`` of ``cost (B, N, M)`` with drop costs ``drop_x (B, N)``, ``drop_y (B, M)`` (+inf: never
    dropped) and lengths ``(B,)``; differentiable with respect to the three float inputs. Computed in float64."""

    @staticmethod
    def forward(ctx, cost, drop_x, drop_y, len_x, len_y, gamma: float, relaxation: str):
        arrays = [t.detach().double().contiguous().numpy() for t in (cost, drop_x, drop_y)]
        lengths = [t.detach().cpu().long().contiguous().numpy() for t in (len_x, len_y)]
        batch, n, m = cost.shape
        check_memory(batch, n, m)
        code = RELAXATION_CODES[relaxation]
        tables = np.empty((batch, 4, n + 1, m + 1))
        score = np.empty(batch)
        run_chunks(_forward_pair, _forward_parallel, batch, *arrays, *lengths, float(gamma), code, tables, score)
        ctx.saved = (tables, lengths, float(gamma), code, cost.dtype, drop_x.dtype, drop_y.dtype)
        return torch.from_numpy(score).to(cost.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        tables, lengths, gamma, code, cost_dtype, x_dtype, y_dtype = ctx.saved
        batch, _, n1, m1 = tables.shape
        grad_cost = np.zeros((batch, n1 - 1, m1 - 1))
        grad_x, grad_y = np.zeros((batch, n1 - 1)), np.zeros((batch, m1 - 1))
        adjoint = np.empty_like(tables)
        run_chunks(_backward_pair, _backward_parallel, batch, tables, *lengths, gamma, code,
                   grad.detach().double().contiguous().numpy(), adjoint, grad_cost, grad_x, grad_y)
        return (torch.from_numpy(grad_cost).to(cost_dtype), torch.from_numpy(grad_x).to(x_dtype),
                torch.from_numpy(grad_y).to(y_dtype), None, None, None, None)
