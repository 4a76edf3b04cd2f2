"""Drop-DTW on the CPU: a compiled row-by-row sweep with the pairs as SIMD lanes and an analytic backward (the
recursion of :mod:`gtalign.ops.drop_dtw`).

The batch is split into chunks of up to ``L = 8`` pairs (lanes), one chunk per thread, as in
:mod:`gtalign.ops.dtw_numba` but always on Python threads: a ``prange`` loop would compile the kernels a second
time (the first call with an empty numba cache took 61 s instead of 22). A chunk sweeps its four tables (states MM,
MD, DM, DD) row by row, cell after cell, in two rolling rows; each cell is one loop over the lanes whose body has no
branch (not even on the relaxation: see :func:`_value`), so LLVM turns it into SIMD code (with the exp of
:mod:`gtalign.ops.fastmath`; indices are cast to unsigned, see :func:`_u`). Every cell's four values are also
kept, in reverse order (:func:`_kept`), for the backward, which takes the cells in reverse order, recomputes each
state's local soft minimum from the kept values and pushes the state's adjoint to the cells it came from:

    G[pred] += G[state] * d softmin / d pred,   grad C[i-1, j-1] = G[MM],   grad drop_y[j-1] += G[MD],
    grad drop_x[i-1] += G[DM] + G[DD].

Every cell's successors come later in row-major order, so reverse row-major order sees each adjoint complete
before it is pushed on; only two rows of adjoints are kept. Undefined states and forbidden drops (+inf) are held as
:data:`BIG`, a finite stand-in whose soft-minimum weight underflows to exactly 0, so that no lane ever computes
``inf - inf``. Everything is computed in float64; inputs are validated by the caller.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit
from torch.autograd.function import once_differentiable

from gtalign.errors import GtalignError
from gtalign.ops.buffers import short_of_memory
from gtalign.ops.dtw_numba import SCRATCH, _lane_lengths, _lanes
from gtalign.ops.fastmath import FASTMATH, exp_nonpos, log_1_to_3
from gtalign.ops.smoothmin import RELAXATION_CODES
from gtalign.ops.threads import run_chunks

_MM, _MD, _DM, _DD = 0, 1, 2, 3
_STATES = 4
#: Most pairs per chunk: eight float64 lanes fill one AVX-512 register or two AVX2 registers.
MAX_LANES = 8
#: Values a cell pushes to the cells it came from (the diagonal cell's four states, the upper cell's four, the left
#: cell's MM and MD), stored lane after lane: at offsets LLVM can tell apart at compile time. (Stored state after
#: state, ``lanes`` apart, they need a run-time overlap check per pair of stores and LLVM leaves the loop scalar.)
_PUSHES = 10
#: +inf inside the kernels: large enough that its weight is exactly 0 at any gamma below 1e180, small enough that
#: the sums of a whole table of them stay finite.
BIG = 1e200
_LN4 = math.log(4.0)
#: ``1 / gamma`` of the hard minimum: every candidate above the lowest gets ``exp(-inf) = 0`` (a tie shares the
#: weight, as torch's ``amin`` shares its gradient).
HARD_INV_GAMMA = 1e300


# --- the local soft minima: smoothmin (blend 1), log-sum-exp (blend 0), hard (smoothmin, see _relaxation) ---

@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _log_1_to_8(s):
    """``log(s)`` for ``1 <= s <= 8`` (a sum of at most eight weights, one of which is 1)."""
    return log_1_to_3(s * 0.25) + _LN4 if s > 2.8 else log_1_to_3(s)


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _term(v, low, inv_gamma):
    """Candidate ``v``'s unnormalised weight ``e = exp(-(v - low) / gamma)`` and ``e * (v - low)``."""
    e = exp_nonpos((low - v) * inv_gamma)
    return e, (e * (v - low) if e > 0.0 else 0.0)


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _value(low, total, spread, gamma, blend):
    """The soft minimum from the lowest value, the weights' sum and ``sum e (v - low)``: smoothmin's ``low +
    spread / total`` where ``blend`` is 1, the log-sum-exp ``low - gamma log(total)`` where it is 0; and
    ``1 / total``. (Both are computed and blended, so that the lane loops carry no branch on the relaxation: with
    one, LLVM compiles each loop once per relaxation, and the kernels took 98 s to compile.)"""
    inv_total = 1.0 / total
    return blend * (low + spread * inv_total) + (1.0 - blend) * (low - gamma * _log_1_to_8(total)), inv_total


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _der(e, v, low, inv_total, excess, inv_gamma, blend):
    """d softmin / d v of one candidate: smoothmin's ``w (1 - (v - low - excess) / gamma)`` where ``blend`` is 1,
    the weight ``w`` where it is 0."""
    w = e * inv_total
    return w * (1.0 - blend * (v - low - excess) * inv_gamma) if w > 0.0 else 0.0


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _softmin2(a, b, gamma, inv_gamma, blend):
    """The soft minimum of two values and its two derivatives."""
    low = min(a, b)
    ea, sa = _term(a, low, inv_gamma)
    eb, sb = _term(b, low, inv_gamma)
    value, inv_total = _value(low, ea + eb, sa + sb, gamma, blend)
    excess = value - low
    return (value, _der(ea, a, low, inv_total, excess, inv_gamma, blend),
            _der(eb, b, low, inv_total, excess, inv_gamma, blend))


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _softmin8(a0, a1, a2, a3, a4, a5, a6, a7, gamma, inv_gamma, blend):
    """The soft minimum of the eight candidates of MM and their derivatives (a 9-tuple)."""
    low = min(min(min(a0, a1), min(a2, a3)), min(min(a4, a5), min(a6, a7)))
    e0, s0 = _term(a0, low, inv_gamma)
    e1, s1 = _term(a1, low, inv_gamma)
    e2, s2 = _term(a2, low, inv_gamma)
    e3, s3 = _term(a3, low, inv_gamma)
    e4, s4 = _term(a4, low, inv_gamma)
    e5, s5 = _term(a5, low, inv_gamma)
    e6, s6 = _term(a6, low, inv_gamma)
    e7, s7 = _term(a7, low, inv_gamma)
    value, inv_total = _value(low, ((e0 + e1) + (e2 + e3)) + ((e4 + e5) + (e6 + e7)),
                              ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), gamma, blend)
    x = value - low  # the excess for smoothmin (unused by min_gamma)
    return (value, _der(e0, a0, low, inv_total, x, inv_gamma, blend), _der(e1, a1, low, inv_total, x, inv_gamma, blend),
            _der(e2, a2, low, inv_total, x, inv_gamma, blend), _der(e3, a3, low, inv_total, x, inv_gamma, blend),
            _der(e4, a4, low, inv_total, x, inv_gamma, blend), _der(e5, a5, low, inv_total, x, inv_gamma, blend),
            _der(e6, a6, low, inv_total, x, inv_gamma, blend), _der(e7, a7, low, inv_total, x, inv_gamma, blend))


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _match(v, diag, up, left, lanes, gamma, inv_gamma, blend):
    """MM's soft minimum over the diagonal cell's four states, the upper cell's MM and DM and the left cell's MM
    and MD (``diag``, ``up``, ``left``: the lane's MM value of each cell in ``v``, the states ``lanes`` apart)."""
    return _softmin8(v[_u(diag)], v[_u(diag + _MD * lanes)], v[_u(diag + _DM * lanes)], v[_u(diag + _DD * lanes)],
                     v[_u(up)], v[_u(up + _DM * lanes)], v[_u(left)], v[_u(left + _MD * lanes)], gamma, inv_gamma,
                     blend)


# --- the sweeps ---

@njit(inline="always")
def _u(k):
    """Index ``k`` as unsigned: numba then leaves out its negative-index wrap-around, a select on the address that
    stops LLVM from vectorizing the lane loops below."""
    return np.uint64(k)


@njit(nogil=True, cache=True)
def _pack_drops(src, b0, used, dst):
    """``dst[t + 1, lane] = min(src[b0 + lane, t], BIG)``, BIG in row 0 and in the lanes past the batch."""
    dst[:] = BIG
    for lane in range(used):
        for t in range(src.shape[1]):
            dst[t + 1, lane] = min(src[b0 + lane, t], BIG)


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _cell(out, v, left, up, diag, cost, drop_x, drop_y, i, j, lanes, gamma, inv_gamma, blend):
    """The four states of cell (i, j) for all lanes into ``out[state * L + lane]``, from the cells of ``v`` that
    start at ``left``, ``up`` and ``diag``, and the local costs ``cost[j L + lane]``, ``drop_x[i L + lane]``,
    ``drop_y[j L + lane]``. (``out`` is not ``v``: with reads and writes in one array LLVM does not vectorize the
    loop.)"""
    md, dm, dd = _MD * lanes, _DM * lanes, _DD * lanes
    for lane in range(lanes):
        x_mm = x_md = x_dm = x_dd = BIG
        xi, yj = _u(i * lanes + lane), _u(j * lanes + lane)
        if i >= 1 and j >= 1:
            x_mm = cost[yj] + _match(v, diag + lane, up + lane, left + lane, lanes, gamma, inv_gamma, blend)[0]
        if j >= 1:
            x_md = drop_y[yj] + _softmin2(v[_u(left + lane)], v[_u(left + md + lane)], gamma, inv_gamma, blend)[0]
        if i >= 1:
            x_dm = drop_x[xi] + _softmin2(v[_u(up + lane)], v[_u(up + dm + lane)], gamma, inv_gamma, blend)[0]
            x_dd = drop_x[xi] + _softmin2(v[_u(up + md + lane)], v[_u(up + dd + lane)], gamma, inv_gamma, blend)[0]
        out[_u(lane)], out[_u(md + lane)], out[_u(dm + lane)], out[_u(dd + lane)] = x_mm, x_md, x_dm, x_dd


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _cell_pushes(push, g, c, v, left, up, diag, has_up, has_left, lanes, gamma, inv_gamma, blend):
    """What cell (i, j) adds to the adjoints of the cells it came from, into ``push[lane * 10 + k]``: k = 0-3 the
    diagonal cell's four states, 4-7 the upper cell's, 8-9 the left cell's MM and MD; from its own adjoints
    ``g[c + state * L + lane]`` and the kept values of those cells at ``left``, ``up``, ``diag`` in ``v``.
    ``has_up`` / ``has_left``: whether i >= 1 / j >= 1."""
    md, dm, dd = _MD * lanes, _DM * lanes, _DD * lanes
    for lane in range(lanes):
        a_mm, a_md = g[_u(c + lane)], g[_u(c + md + lane)]
        a_dm, a_dd = g[_u(c + dm + lane)], g[_u(c + dd + lane)]
        m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = 0.0  # MM's derivatives, 0 where it is undefined
        if has_up and has_left:
            _, m0, m1, m2, m3, m4, m5, m6, m7 = _match(v, diag + lane, up + lane, left + lane, lanes, gamma, inv_gamma,
                                                       blend)
        y0 = y1 = 0.0  # MD's
        if has_left:
            _, y0, y1 = _softmin2(v[_u(left + lane)], v[_u(left + md + lane)], gamma, inv_gamma, blend)
        x0 = x1 = z0 = z1 = 0.0  # DM's and DD's
        if has_up:
            _, x0, x1 = _softmin2(v[_u(up + lane)], v[_u(up + dm + lane)], gamma, inv_gamma, blend)
            _, z0, z1 = _softmin2(v[_u(up + md + lane)], v[_u(up + dd + lane)], gamma, inv_gamma, blend)
        at = _u(lane * _PUSHES)
        push[at], push[at + 1], push[at + 2], push[at + 3] = a_mm * m0, a_mm * m1, a_mm * m2, a_mm * m3
        push[at + 4], push[at + 5] = a_mm * m4 + a_dm * x0, a_dd * z0
        push[at + 6], push[at + 7] = a_mm * m5 + a_dm * x1, a_dd * z1
        push[at + 8], push[at + 9] = a_mm * m6 + a_md * y0, a_mm * m7 + a_md * y1


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _final(s, gamma, inv_gamma, blend):
    """The score: the soft minimum of the four states ``s (4,)`` at the pair's last cell, and its derivatives."""
    return _softmin8(s[0], s[1], s[2], s[3], BIG, BIG, BIG, BIG, gamma, inv_gamma, blend)


@njit(inline="always")
def _kept(i, j, n, m, width):
    """Where cell (i, j) starts in a kept table: ``((N - i) (M+1) + M - j) 4 L``, the cells in reverse order. The
    backward then reads them at growing offsets; with offsets that fall as the sweep goes on, LLVM cannot bound the
    addresses of its lane loop and only the loop's scalar fallback runs (3x slower)."""
    return ((n - i) * (m + 1) + m - j) * width


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _forward_row(i, n, m, rows, table, out, costs, drop_x, drop_y, lanes, gamma, inv_gamma, blend):
    """Row ``i``: computed in ``rows`` (rows i and i - 1, left to right, cell j of row i at ``((i % 2) (M+1) + j)
    4 L``), through the buffer ``out``, and kept in ``table`` at :func:`_kept`."""
    width = _STATES * lanes
    here, above = (i % 2) * (m + 1) * width, ((i + 1) % 2) * (m + 1) * width
    for j in range(m + 1):
        at = here + j * width
        if i == 0 and j == 0:
            out[:] = BIG
            out[:lanes] = 0.0  # MM[0, 0]: the empty start counts as a match
        else:
            up = above + j * width  # row i - 1 (not read in row 0)
            _cell(out, rows, at - width, up, up - width, costs, drop_x, drop_y, i, j, lanes, gamma, inv_gamma,
                  blend)
        kept = _kept(i, j, n, m, width)
        for t in range(width):
            rows[_u(at + t)] = out[t]
            table[_u(kept + t)] = out[t]


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _backward_row(i, n, m, table, g, g_prev, push, grad_cost, grad_y, grad_x, lanes, gamma, inv_gamma, blend):
    """Row ``i`` of the adjoints ``g`` (column j at ``(M - j) 4 L``), right to left, pushing into ``g`` and into
    the row above's ``g_prev``; ``grad_cost[(M - j) L + lane] = G[MM]``, ``grad_y[(M - j) L + lane] += G[MD]``,
    ``grad_x[lane] += G[DM] + G[DD]``. Every offset grows as the sweep goes on (see :func:`_kept`)."""
    width = _STATES * lanes
    md, dm, dd = _MD * lanes, _DM * lanes, _DD * lanes
    row = (n - i) * (m + 1)
    for step in range(m + 1):  # j = m .. 0
        j = m - step
        if i == 0 and j == 0:
            continue
        c = step * width
        at = (row + step) * width  # _kept(i, j); its left, upper and diagonal cells follow it
        for lane in range(lanes):
            grad_cost[_u(step * lanes + lane)] = g[_u(c + lane)]
            grad_y[_u(step * lanes + lane)] += g[_u(c + md + lane)]
            grad_x[lane] += g[_u(c + dm + lane)] + g[_u(c + dd + lane)]
        up = at + (m + 1) * width
        _cell_pushes(push, g, c, table, at + width, up, up + width, i >= 1, j >= 1, lanes, gamma, inv_gamma, blend)
        for lane in range(lanes):
            pushed, here, left = lane * _PUSHES, c + lane, c + width + lane
            if i >= 1:
                for state in range(_STATES):
                    g_prev[_u(left + state * lanes)] += push[pushed + state]  # the diagonal cell
                    g_prev[_u(here + state * lanes)] += push[pushed + _STATES + state]  # the upper cell
            if j >= 1:
                g[_u(left)] += push[pushed + 8]
                g[_u(left + md)] += push[pushed + 9]



@njit(inline="always")
def _relaxation(code, gamma):
    """``(blend, 1 / gamma)`` of relaxation ``code`` (:data:`gtalign.ops.smoothmin.RELAXATION_CODES`): smoothmin
    (0) blends 1, min_gamma (1) blends 0, hard (2) is smoothmin with ``1 / gamma`` at :data:`HARD_INV_GAMMA`."""
    if code == 2:
        return 1.0, HARD_INV_GAMMA
    return (0.0 if code == 1 else 1.0), 1.0 / gamma


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _forward_chunk(chunk, cost, drop_x, drop_y, len_x, len_y, gamma, code, tables, score):
    """Fill ``tables[chunk]`` (:func:`_kept` layout, ``(N+1) (M+1) 4 L``) for the pairs ``chunk * L ..`` of ``cost
    (B, N, M)``, their drop costs ``(B, N)``, ``(B, M)`` and lengths ``(chunks * L,)``, and their ``score (B,)``."""
    batch, n, m = cost.shape
    lanes = tables.shape[2]
    width = _STATES * lanes
    b0 = chunk * lanes
    used = min(lanes, batch - b0)
    blend, inv_gamma = _relaxation(code, gamma)
    table = tables[chunk].reshape(-1)
    dx, dy = np.empty((n + 1) * lanes), np.empty((m + 1) * lanes)
    _pack_drops(drop_x, b0, used, dx.reshape(n + 1, lanes))
    _pack_drops(drop_y, b0, used, dy.reshape(m + 1, lanes))
    costs = np.zeros((m + 1, lanes))  # row i's costs C[i-1, j-1] at [j]; 0 in the lanes past the batch
    rows = np.empty(2 * (m + 1) * width)
    out = np.empty(width)
    for i in range(n + 1):
        if i >= 1:
            for lane in range(used):
                costs[1:, lane] = cost[b0 + lane, i - 1]
        _forward_row(i, n, m, rows, table, out, costs.reshape(-1), dx, dy, lanes, gamma, inv_gamma, blend)
    for lane in range(used):
        at = _kept(len_x[b0 + lane], len_y[b0 + lane], n, m, width) + lane
        score[b0 + lane] = _final(table[at:at + width:lanes], gamma, inv_gamma, blend)[0]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _backward_chunk(chunk, tables, len_x, len_y, gamma, code, grad, grad_cost, grad_x, grad_y):
    """The gradient of ``sum_b grad[b] score[b]`` for the pairs of chunk ``chunk`` with respect to their costs
    ``grad_cost (B, N, M)`` and drop costs ``grad_x (B, N)``, ``grad_y (B, M)`` (written, padded cells 0)."""
    batch, n, m = grad_cost.shape
    lanes = tables.shape[2]
    b0 = chunk * lanes
    used = min(lanes, batch - b0)
    blend, inv_gamma = _relaxation(code, gamma)
    width = _STATES * lanes
    table = tables[chunk].reshape(-1)
    g = np.zeros((2, (m + 1) * width))  # the adjoints of rows i and i - 1, column j at (M - j) 4 L
    gc, gy, gx = np.zeros((m + 1, lanes)), np.zeros((m + 1, lanes)), np.zeros(lanes)  # gc, gy: column j at M - j
    push = np.empty(_PUSHES * lanes)
    for step in range(n + 1):  # i = n .. 0
        i = n - step
        cur, prev = g[i % 2], g[(i + 1) % 2]
        prev[:] = 0.0
        gx[:] = 0.0
        for lane in range(used):
            if len_x[b0 + lane] == i:  # the score's derivatives seed the pair's last cell
                last = len_y[b0 + lane]
                at = _kept(i, last, n, m, width) + lane
                ders = _final(table[at:at + width:lanes], gamma, inv_gamma, blend)
                for state in range(_STATES):
                    cur[(m - last) * width + state * lanes + lane] += grad[b0 + lane] * ders[1 + state]
        _backward_row(i, n, m, table, cur, prev, push, gc.reshape(-1), gy.reshape(-1), gx, lanes, gamma, inv_gamma,
                      blend)
        if i >= 1:
            for lane in range(used):
                for j in range(1, m + 1):
                    grad_cost[b0 + lane, i - 1, j - 1] = gc[m - j, lane]
                grad_x[b0 + lane, i - 1] = gx[lane]
    for lane in range(used):
        for j in range(1, m + 1):
            grad_y[b0 + lane, j - 1] = gy[m - j, lane]


def check_memory(batch: int, n: int, m: int) -> None:
    """GtalignError before the sweep when the four tables (4 float64 values a cell) exceed the free memory."""
    need = _STATES * batch * (n + 1) * (m + 1) * 8
    free = short_of_memory(need)
    if free:
        raise GtalignError(f"Drop-DTW of {batch} pair(s) of {n} x {m} frames needs about {need / 1e9:.2g} GB, more "
                           f"than the {free / 1e9:.2g} GB free: align shorter stretches or every k-th frame, or "
                           "fewer pairs at a time (drop_dtw_path gives the hard alignment of a long pair in less)")


class _KeptTables:
    """The tables one forward keeps for its backward, lent by the scratch pool (:data:`gtalign.ops.dtw_numba.SCRATCH`)
    until this object is collected: repeated calls then reuse memory instead of faulting fresh pages in, which two
    threads do at half speed (measured: the forward at B = 16, N = M = 256 took 70 ms on two threads with fresh
    tables, 38 ms on one)."""

    __slots__ = ("tables", "__weakref__")

    def __init__(self, shape: tuple[int, ...]):
        self.tables = SCRATCH.lend(self, shape, np.float64)


class DropDTWFunction(torch.autograd.Function):
    """Scores ``(B,)`` of ``cost (B, N, M)`` with drop costs ``drop_x (B, N)``, ``drop_y (B, M)`` (+inf: never
    dropped) and lengths ``(B,)``; differentiable with respect to the three float inputs. Computed in float64."""

    @staticmethod
    def forward(ctx, cost, drop_x, drop_y, len_x, len_y, gamma: float, relaxation: str):
        arrays = [t.detach().double().contiguous().numpy() for t in (cost, drop_x, drop_y)]
        batch, n, m = cost.shape
        check_memory(batch, n, m)
        lanes = min(MAX_LANES, _lanes(batch, batch * n * m))
        chunks = -(-batch // lanes)
        lengths = [_lane_lengths(t.detach().cpu().long(), lanes, full) for t, full in ((len_x, n), (len_y, m))]
        code = RELAXATION_CODES[relaxation]
        kept = _KeptTables((chunks, (n + 1) * (m + 1) * _STATES, lanes))
        score = np.empty(batch)
        run_chunks(_forward_chunk, None, chunks, *arrays, *lengths, float(gamma), code, kept.tables, score)
        ctx.saved = (kept, lengths, float(gamma), code, cost.shape, cost.dtype, drop_x.dtype, drop_y.dtype)
        return torch.from_numpy(score).to(cost.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        kept, lengths, gamma, code, (batch, n, m), cost_dtype, x_dtype, y_dtype = ctx.saved
        tables = kept.tables
        grad_cost = np.zeros((batch, n, m))
        grad_x, grad_y = np.zeros((batch, n)), np.zeros((batch, m))
        run_chunks(_backward_chunk, None, tables.shape[0], tables, *lengths, gamma, code,
                   grad.detach().double().contiguous().numpy(), grad_cost, grad_x, grad_y)
        return (torch.from_numpy(grad_cost).to(cost_dtype), torch.from_numpy(grad_x).to(x_dtype),
                torch.from_numpy(grad_y).to(y_dtype), None, None, None, None)
