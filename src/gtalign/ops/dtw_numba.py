"""Differentiable DTW on the CPU: numba kernels sweeping anti-diagonals with the batch as SIMD lanes.

The batch is split into chunks of ``L`` pairs (lanes), one chunk per thread (as many threads as
``torch.get_num_threads()``: torch's own OpenMP workers through ``numba.prange`` where numba's threading layer is
OpenMP, else Python threads; see :mod:`gtalign.ops.threads`). A chunk sweeps the anti-diagonals ``k = i + j`` of
its tables together: diagonal ``k`` is a flat buffer ``S_k[i * L + lane]`` (three rotating buffers, in cache),
and the three predecessors of cell ``(i, j)`` are at fixed offsets: left ``R[i, j-1] = S_{k-1}[t]``, up
``R[i-1, j] = S_{k-1}[t - L]``, diagonal ``R[i-1, j-1] = S_{k-2}[t - L]`` with ``t = i * L + lane``. Every cell
update is therefore one long, contiguous, dependency-free loop over ``(i, lane)``, which LLVM vectorizes (with the
exp of :mod:`gtalign.ops.fastmath`). A single pair (``L = 1``) is vectorized along its anti-diagonals.

The forward stores each cell's three local softmin derivatives ``d[chunk, 3, cells * L]`` (diagonal after
diagonal, with zero guards at both ends); the backward sweeps the adjoint
``G[i, j] = g[i, j] + G[i, j+1] d_left[i, j+1] + G[i+1, j+1] d_diag[i+1, j+1] + G[i+1, j] d_up[i+1, j]``
over the diagonals in reverse, in the same layout. Costs and gradients are read and written in the caller's
``(B, N, M)`` layout. The derivatives and the lanes-last workspaces come from :data:`SCRATCH`, a bounded pool
(:mod:`gtalign.ops.buffers`), so that repeated calls reuse memory instead of faulting fresh pages in. Inputs are
validated by :mod:`gtalign.ops.dtw`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from numba import njit, prange

from gtalign.ops.buffers import BufferPool
from gtalign.ops.fastmath import FASTMATH, exp_nonpos, like, log_1_to_3
from gtalign.ops.smoothmin import RELAXATION_CODES
from gtalign.ops.threads import run_chunks, threads

#: Most pairs per chunk; fewer when that leaves a thread idle.
MAX_LANES = 16


# --- the local three-way softmin: value and derivatives (d_left, d_diag, d_up); see smoothmin.softmin3 ---

@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _weights(left, diag, up, inv_gamma):
    low = min(left, min(diag, up))
    r_left, r_diag, r_up = left - low, diag - low, up - low
    e_left = exp_nonpos(-r_left * inv_gamma)
    e_diag = exp_nonpos(-r_diag * inv_gamma)
    e_up = exp_nonpos(-r_up * inv_gamma)
    return low, r_left, r_diag, r_up, e_left, e_diag, e_up


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _smoothmin3(left, diag, up, gamma, inv_gamma):
    zero, one = like(0.0, left), like(1.0, left)
    low, r_left, r_diag, r_up, e_left, e_diag, e_up = _weights(left, diag, up, inv_gamma)
    inv_sum = one / (e_left + e_diag + e_up)
    w_left, w_diag, w_up = e_left * inv_sum, e_diag * inv_sum, e_up * inv_sum
    excess = w_left * r_left + w_diag * r_diag + w_up * r_up
    # derivative w_k (1 - (r_k - excess) / gamma); exactly 0 where the weight is 0 (the border)
    d_left = w_left * (one - (r_left - excess) * inv_gamma) if w_left > zero else zero
    d_diag = w_diag * (one - (r_diag - excess) * inv_gamma) if w_diag > zero else zero
    d_up = w_up * (one - (r_up - excess) * inv_gamma) if w_up > zero else zero
    return low + excess, d_left, d_diag, d_up


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _min_gamma3(left, diag, up, gamma, inv_gamma):
    one = like(1.0, left)
    low, _, _, _, e_left, e_diag, e_up = _weights(left, diag, up, inv_gamma)
    total = e_left + e_diag + e_up
    inv_sum = one / total
    return low - gamma * log_1_to_3(total), e_left * inv_sum, e_diag * inv_sum, e_up * inv_sum


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _hard3(left, diag, up, gamma, inv_gamma):
    zero, one = like(0.0, left), like(1.0, left)
    low = min(left, min(diag, up))
    d_left = one if left == low else zero  # one-hot of the first minimum in the order left, diag, up
    d_diag = one if (diag == low and left != low) else zero
    return low, d_left, d_diag, one - d_left - d_diag


# --- layout helpers ---

@njit(inline="always")
def _diagonal(k, n, m):
    """Rows ``lo..hi`` (inclusive) of the cells ``(i, k - i)`` inside the ``n x m`` table."""
    return max(1, k - m), min(n, k - 1)


@njit(cache=True)
def _diagonal_offsets(n, m):
    """``off[k]``: number of cells on the diagonals before ``k`` (k = 0 .. n + m + 2)."""
    off = np.zeros(n + m + 3, np.int64)
    for k in range(2, n + m + 2):
        lo, hi = _diagonal(k, n, m)
        off[k + 1] = off[k] + max(0, hi - lo + 1)
    return off


@njit(inline="always")
def _is_padded(i, j, len_x, len_y, b):
    return i > len_x[b] or j > len_y[b]


# --- batch <-> lanes-last layout, one chunk at a time (sequential reads, L2-resident strided writes) ---

@njit(nogil=True, cache=True)
def _pack_chunk(src, chunk, dst):
    """``dst[chunk, i, j, lane] = src[chunk * L + lane, i, j]`` (0 for lanes past the batch):
    ``src (B, P, Q)``, ``dst (chunks, P, Q, L)``."""
    batch, p, q = src.shape
    lanes = dst.shape[3]
    b0 = chunk * lanes
    used = min(lanes, batch - b0)
    for i in range(p):
        dst[chunk, i, :, used:] = 0
        for lane in range(used):
            for j in range(q):
                dst[chunk, i, j, lane] = src[b0 + lane, i, j]


@njit(nogil=True, cache=True)
def _unpack_chunk(src, chunk, dst):
    """The inverse of :func:`_pack_chunk` for the lanes inside the batch."""
    batch, p, q = dst.shape
    lanes = src.shape[3]
    b0 = chunk * lanes
    for i in range(p):
        for lane in range(min(lanes, batch - b0)):
            for j in range(q):
                dst[b0 + lane, i, j] = src[chunk, i, j, lane]


# --- forward ---

def _make_sweep(local_min):
    """A diagonal sweep specialised (and inlined) for one local softmin. It touches only five arrays so that
    LLVM's runtime alias checks stay within its limit and the loop vectorizes."""

    @njit(fastmath=FASTMATH, error_model="numpy")
    def sweep(count, left, diag, up, cost, out, gamma, inv_gamma, d_left, d_diag, d_up):
        """``count`` cells of one diagonal (all lanes): ``out[t] = cost[t] + softmin(left[t], diag[t], up[t])``
        and the derivatives ``d_*[t]``. The callers pass views already offset so that every array is indexed
        by ``t`` alone: runtime offsets or 2-D indexing make LLVM give up vectorizing."""
        for t in range(count):
            value, d_left[t], d_diag[t], d_up[t] = local_min(left[t], diag[t], up[t], gamma, inv_gamma)
            out[t] = cost[t] + value

    return sweep


_sweep_smoothmin = _make_sweep(_smoothmin3)
_sweep_min_gamma = _make_sweep(_min_gamma3)
_sweep_hard = _make_sweep(_hard3)


@njit(inline="always")
def sweep_relaxed(relaxation, count, left, diag, up, cost, out, gamma, inv_gamma, d_left, d_diag, d_up):
    """The diagonal sweep of the local softmin numbered `relaxation` (`smoothmin.RELAXATION_CODES`)."""
    if relaxation == 0:
        _sweep_smoothmin(count, left, diag, up, cost, out, gamma, inv_gamma, d_left, d_diag, d_up)
    elif relaxation == 1:
        _sweep_min_gamma(count, left, diag, up, cost, out, gamma, inv_gamma, d_left, d_diag, d_up)
    else:
        _sweep_hard(count, left, diag, up, cost, out, gamma, inv_gamma, d_left, d_diag, d_up)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _forward_chunk(chunk, cost_bnm, cost, len_x, len_y, gamma, big, relaxation, top, d, row, table, table_bnm):
    """Forward sweep of chunk ``chunk`` (pairs ``chunk * L ..``), in the lanes-last layout; releases the GIL.

    Args: ``cost_bnm (B, N, M)`` packed into the workspace ``cost (chunks, N, M, L)``; ``len_x, len_y
    (chunks * L,)``; ``top (chunks * L, M+1)`` the table's row 0 ``R[0, 0..M]`` (``big`` for +inf);
    ``row (chunks * L, M)`` (+inf from the caller) <- the last row ``R[len_x, j]``, ``j <= len_y``
    (the score at ``j = len_y``); ``d (chunks, 3, (N M + 4) L)`` filled with the derivatives (zero guards of 2L at both
    ends); ``table (chunks, N+1, M+1, L)`` and ``table_bnm (B, N+1, M+1)``, or both empty, filled with R
    (+inf on padded cells; the border is left to the caller).
    """
    _pack_chunk(cost_bnm, chunk, cost)
    chunks, n, m, lanes = cost.shape
    inv_gamma = like(1.0, gamma) / gamma
    zero, inf = like(0.0, gamma), like(np.inf, gamma)
    off = _diagonal_offsets(n, m)
    guard = 2 * lanes
    b0 = chunk * lanes
    buf = np.full((3, (n + 2) * lanes), big)  # rotating diagonals k-2, k-1, k (in cache)
    for lane in range(lanes):
        buf[0, lane] = top[b0 + lane, 0]  # R[0, 0] on diagonal 0
        buf[1, lane] = top[b0 + lane, 1]  # R[0, 1] on diagonal 1
    cost_k = np.zeros((n + 2) * lanes, cost.dtype)
    d[chunk, :, :guard] = zero
    d[chunk, :, d.shape[2] - guard:] = zero
    for k in range(2, n + m + 1):
        lo, hi = _diagonal(k, n, m)
        for i in range(lo, hi + 1):
            for lane in range(lanes):
                cost_k[i * lanes + lane] = cost[chunk, i - 1, k - i - 1, lane]
        out = buf[k % 3]
        dbase = guard + (off[k] - lo) * lanes
        first, prior = lo * lanes, (lo - 1) * lanes  # cell (lo, k - lo) and the row above
        prev1, prev2 = buf[(k - 1) % 3], buf[(k - 2) % 3]
        start = dbase + first
        sweep_relaxed(relaxation, (hi - lo + 1) * lanes, prev1[first:], prev2[prior:], prev1[prior:], cost_k[first:],
                      out[first:], gamma, inv_gamma, d[chunk, 0, start:], d[chunk, 1, start:], d[chunk, 2, start:])
        out[(lo - 1) * lanes:lo * lanes] = big  # border cells read by the next diagonals
        out[(hi + 1) * lanes:(hi + 2) * lanes] = big
        if lo == 1 and k <= m:  # row 0's cell (0, k)
            for lane in range(lanes):
                out[lane] = top[b0 + lane, k]
        if table.shape[0] > 0:
            for i in range(lo, hi + 1):
                for lane in range(lanes):
                    table[chunk, i, k - i, lane] = out[i * lanes + lane]
        for lane in range(lanes):
            b = b0 + lane
            j = k - len_x[b]
            if 1 <= j <= len_y[b]:
                row[b, j - 1] = out[len_x[b] * lanes + lane]
            if len_x[b] < n or len_y[b] < m:  # padded cells: derivative 0, so no gradient crosses them
                for i in range(lo, hi + 1):
                    if _is_padded(i, k - i, len_x, len_y, b):
                        d[chunk, :, dbase + i * lanes + lane] = zero
                        if table.shape[0] > 0:
                            table[chunk, i, k - i, lane] = inf
    if table.shape[0] > 0:
        _unpack_chunk(table, chunk, table_bnm)


# --- backward ---

@njit(fastmath=FASTMATH, error_model="numpy")
def _adjoint_diagonal(count, g_in, g_right, g_diag, g_down, d_left, d_diag, d_up, out):
    """Adjoints of ``count`` cells of one diagonal: incoming ``g_in[t]`` plus each successor's adjoint times
    its derivative with respect to this cell (views offset so that all are indexed by ``t``)."""
    for t in range(count):
        out[t] = g_in[t] + g_right[t] * d_left[t] + g_diag[t] * d_diag[t] + g_down[t] * d_up[t]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _backward_chunk(chunk, d, len_x, len_y, grad_row, grad_table_bnm, grad_table, out, out_bnm, grad_top):
    """Reverse sweep of chunk ``chunk``, in the lanes-last layout (releases the GIL): the gradient
    ``out_bnm (B, N, M)`` (through the workspace ``out (chunks, N, M, L)``) from the gradient of the last row
    ``grad_row (chunks * L, M)`` (cells ``(len_x, j)``, ``j <= len_y``; the score's at ``j = len_y``), or
    from ``grad_table_bnm (B, N+1, M+1)`` (through the workspace ``grad_table (chunks, N+1, M+1, L)``) if not
    empty; and the gradient with respect to row 0, ``grad_top (chunks * L, M+1)`` (zeroed by the caller): cell
    (0, j) is the up-predecessor of (1, j) and the diagonal one of (1, j+1).

    Padded cells have derivative 0 (forward) and incoming gradient 0 (here), so their adjoint is 0."""
    chunks, n, m, lanes = out.shape
    from_table = grad_table.shape[0] > 0
    if from_table:
        _pack_chunk(grad_table_bnm, chunk, grad_table)
    zero = like(0.0, d[0, 0, 0])
    off = _diagonal_offsets(n, m)
    guard = 2 * lanes
    b0 = chunk * lanes
    width = (n + 2) * lanes
    buf = np.zeros((3, width), d.dtype)  # rotating adjoints of diagonals k, k+1, k+2
    g_in = np.zeros(width, d.dtype)
    for k in range(n + m, 1, -1):
        lo, hi = _diagonal(k, n, m)
        lo1, _ = _diagonal(k + 1, n, m)
        lo2, _ = _diagonal(k + 2, n, m)
        if from_table:
            for i in range(lo, hi + 1):
                for lane in range(lanes):
                    g_in[i * lanes + lane] = grad_table[chunk, i, k - i, lane]
        for lane in range(lanes):
            b = b0 + lane
            if from_table and (len_x[b] < n or len_y[b] < m):
                for i in range(lo, hi + 1):
                    if _is_padded(i, k - i, len_x, len_y, b):
                        g_in[i * lanes + lane] = zero
            elif not from_table and 1 <= k - len_x[b] <= len_y[b]:
                g_in[len_x[b] * lanes + lane] = grad_row[b, k - len_x[b] - 1]
        g_k = buf[k % 3]
        # successors of cell (i, j): right (i, j+1) and down (i+1, j) on diagonal k+1, (i+1, j+1) on k+2
        first, below = lo * lanes, (lo + 1) * lanes
        base1 = guard + (off[k + 1] - lo1) * lanes  # >= 0: off[k + 1] >= lo1 - 2 and guard = 2L
        base2 = guard + (off[k + 2] - lo2) * lanes
        g1, g2 = buf[(k + 1) % 3], buf[(k + 2) % 3]
        _adjoint_diagonal((hi - lo + 1) * lanes, g_in[first:], g1[first:], g2[below:], g1[below:],
                          d[chunk, 0, base1 + first:], d[chunk, 1, base2 + below:], d[chunk, 2, base1 + below:],
                          g_k[first:])
        g_k[(lo - 1) * lanes:lo * lanes] = zero  # successors outside the table have adjoint 0
        g_k[(hi + 1) * lanes:(hi + 2) * lanes] = zero
        if lo == 1:  # the cell (1, k - 1) passes its adjoint on to row 0
            cell = guard + (off[k] - lo) * lanes + lanes
            for lane in range(lanes):
                grad_top[b0 + lane, k - 1] += g_k[lanes + lane] * d[chunk, 2, cell + lane]
                grad_top[b0 + lane, k - 2] += g_k[lanes + lane] * d[chunk, 1, cell + lane]
        for lane in range(lanes):
            b = b0 + lane
            if not from_table and 1 <= k - len_x[b] <= len_y[b]:
                g_in[len_x[b] * lanes + lane] = zero
        for i in range(lo, hi + 1):
            for lane in range(lanes):
                out[chunk, i - 1, k - i - 1, lane] = g_k[i * lanes + lane]
    _unpack_chunk(out, chunk, out_bnm)


# --- all chunks at once (see gtalign.ops.threads) ---

@njit(parallel=True, nogil=True, cache=True)
def _forward_parallel(chunks, *args):
    """:func:`_forward_chunk` for every chunk, on numba's threads."""
    for chunk in prange(chunks):
        _forward_chunk(chunk, *args)


@njit(parallel=True, nogil=True, cache=True)
def _backward_parallel(chunks, *args):
    """:func:`_backward_chunk` for every chunk, on numba's threads."""
    for chunk in prange(chunks):
        _backward_chunk(chunk, *args)


# --- torch entry points ---

#: Memory for the stored derivatives and the lanes-last workspaces, reused across calls (no page faults on the hot
#: path); at most this many idle bytes are kept. A call's derivatives are lent to its NumbaState and come back only
#: when that state is garbage-collected, so a later forward never overwrites them before their backward ran.
SCRATCH = BufferPool(max_bytes=512 << 20)


@dataclass
class NumbaState:
    """What the backward needs: the stored derivatives ``d (chunks, 3, (N M + 4) L)`` (lent by :data:`SCRATCH`
    to this state, which must be their only holder), the lane-padded lengths and the shape."""

    len_x: np.ndarray
    len_y: np.ndarray
    shape: tuple[int, int, int]
    dtype: torch.dtype
    with_top: bool = False
    d: np.ndarray = field(init=False)


#: Below this many cells a call runs on one thread: waking a second one costs more than it saves.
PARALLEL_CELLS = 1 << 17


def _lanes(batch: int, cells: int) -> int:
    """Pairs per chunk: enough chunks for every thread, at most MAX_LANES pairs each."""
    workers = threads() if cells >= PARALLEL_CELLS else 1
    return max(1, min(MAX_LANES, -(-batch // workers)))


def _lane_lengths(lengths: torch.Tensor, lanes: int, full: int) -> np.ndarray:
    """``(chunks * L,)`` int64 lengths; lanes past the batch get the full length (no padding work)."""
    padded = np.full(-(-lengths.shape[0] // lanes) * lanes, full, np.int64)
    padded[:lengths.shape[0]] = lengths.numpy()
    return padded


def _top_lanes(top: torch.Tensor | None, rows: int, m: int, dtype: np.dtype) -> np.ndarray:
    """Row 0 of each lane's table ``(rows, M+1)``: `top` (+inf as the dtype's largest value), the plain border
    (0, then +inf) where None and for lanes past the batch."""
    big = np.finfo(dtype).max
    out = np.full((rows, m + 1), big, dtype)
    out[:, 0] = 0
    if top is not None:
        out[:top.shape[0]] = np.minimum(top.numpy(), big)
    return out


def forward(cost: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, gamma: float, relaxation: str,
            output: str, top: torch.Tensor | None = None) -> tuple[torch.Tensor, NumbaState]:
    """DTW of ``cost (B, N, M)`` (CPU, contiguous) from row 0 `top` ``(B, M+1)`` (None: 0, then +inf): scores
    ``(B,)``, the last rows ``(B, M)`` or the tables ``(B, N+1, M+1)`` (`output`, :data:`gtalign.ops.dtw.OUTPUTS`),
    and the state."""
    b, n, m = cost.shape
    dtype = cost.numpy().dtype
    lanes = _lanes(b, b * n * m)
    chunks = -(-b // lanes)
    state = NumbaState(len_x=_lane_lengths(len_x, lanes, n), len_y=_lane_lengths(len_y, lanes, m), shape=(b, n, m),
                       dtype=cost.dtype, with_top=top is not None)
    state.d = SCRATCH.lend(state, (chunks, 3, (n * m + 4) * lanes), dtype)
    row = np.full((chunks * lanes, m), np.inf, dtype)
    table = output == "table"
    out_table = torch.empty((b, n + 1, m + 1) if table else (0, 0, 0), dtype=cost.dtype)
    table_shape = (chunks, n + 1, m + 1, lanes) if table else (0, 0, 0, 0)
    with SCRATCH.scratch((chunks, n, m, lanes), dtype) as cost_t, SCRATCH.scratch(table_shape, dtype) as table_t:
        run_chunks(_forward_chunk, _forward_parallel, chunks, cost.numpy(), cost_t, state.len_x, state.len_y,
                   dtype.type(gamma), dtype.type(np.finfo(dtype).max), RELAXATION_CODES[relaxation],
                   _top_lanes(top, chunks * lanes, m, dtype), state.d, row, table_t, out_table.numpy())
    if output == "score":
        return torch.from_numpy(row[np.arange(b), state.len_y[:b] - 1]), state
    if output == "row":
        return torch.from_numpy(row[:b]), state
    out_table[:, :, 0] = float("inf")
    out_table[:, 0, :] = float("inf")
    out_table[:, 0, 0] = 0.0
    if top is not None:
        out_table[:, 0, :] = top
    return out_table, state


def backward(state: NumbaState, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Gradients with respect to the cost ``(B, N, M)`` and to row 0 ``(B, M+1)`` (None when the forward had the
    plain border), from the gradient of the scores ``(B,)``, of the last rows ``(B, M)`` or of the tables
    ``(B, N+1, M+1)``; border and padded cells are ignored."""
    b, n, m = state.shape
    chunks, lanes = state.d.shape[0], state.d.shape[2] // (n * m + 4)
    dtype = state.d.dtype
    grad = grad.to(state.dtype).contiguous()
    out = torch.empty(state.shape, dtype=state.dtype)
    by_table = grad.dim() == 3
    grad_row = np.zeros((chunks * lanes, m), dtype)
    if grad.dim() == 1:  # the score is the last row's cell at len_y
        grad_row[np.arange(b), state.len_y[:b] - 1] = grad.numpy()
    elif grad.dim() == 2:
        grad_row[:b] = grad.numpy()
    grad_table = grad.numpy() if by_table else np.zeros((0, 0, 0), dtype)
    table_shape = (chunks, n + 1, m + 1, lanes) if by_table else (0, 0, 0, 0)
    with SCRATCH.scratch(table_shape, dtype) as grad_table_t, SCRATCH.scratch((chunks, n, m, lanes), dtype) as out_t:
        grad_top = np.zeros((chunks * lanes, m + 1), dtype)
        run_chunks(_backward_chunk, _backward_parallel, chunks, state.d, state.len_x, state.len_y, grad_row,
                   grad_table, grad_table_t, out_t, out.numpy(), grad_top)
    return out, (torch.from_numpy(grad_top[:b]) if state.with_top else None)
