"""Differentiable DTW on CUDA GPUs: Triton kernels, one program per pair sweeping the anti-diagonals.

Program ``b`` (grid ``(B,)``) loops over the anti-diagonals ``k = i + j = 2 .. len_x + len_y`` of its own pair.
The cells of one diagonal are independent; they are processed ``BLOCK`` at a time (an inner loop over chunks),
so any length works and no program ever waits for another. A barrier between diagonals makes the writes of
diagonal ``k`` visible to every thread of the program before diagonal ``k + 1`` reads them.

- Values of ``R`` live in a ring of three diagonals per pair, ``ring (B, 3, N+1)`` indexed by the row ``i``
  (diagonal ``k`` in slot ``k % 3``): ``R[i, j-1]`` and ``R[i-1, j]`` are rows ``i`` and ``i-1`` of diagonal
  ``k-1``, ``R[i-1, j-1]`` is row ``i-1`` of diagonal ``k-2``. The border is masked, not stored: a missing
  predecessor gets softmin weight exactly 0 (docs/method.md Sec. 3), and ``R[0, 0] = 0``.
- The forward stores each valid cell's three local softmin derivatives in a compact diagonal-major layout
  ``d (B, 3, N*M)``: diagonal ``k`` starts at ``offsets[k]`` (cells with ``i + j < k``) and cell ``(i, k-i)`` is
  at ``offsets[k] + i - max(1, k - M)``, so a diagonal's loads and stores are contiguous.
- The backward sweeps the diagonals in reverse with the adjoint
  ``G[i, j] = g[i, j] + G[i, j+1] d_left[i, j+1] + G[i+1, j+1] d_diag[i+1, j+1] + G[i+1, j] d_up[i+1, j]``,
  in a ring of three diagonals as well, seeded on the last row ``(len_x, j)`` (scores: only ``j = len_y``; last
  rows: every ``j``) or on every cell (table).

Only valid cells (``i <= len_x``, ``j <= len_y``) are ever computed; padded cells of the table are ``+inf`` and
their gradients 0. The cost, the derivatives and the gradient never leave the GPU: one kernel launch per sweep.
Inputs are validated by :mod:`gtalign.ops.dtw`. On a CPU tensor the kernels run only under Triton's interpreter
(``TRITON_INTERPRET=1`` set before this module is imported), which is how they are tested without a GPU.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from gtalign.errors import GtalignError
from gtalign.ops.smoothmin import RELAXATION_CODES

#: Largest chunk of a diagonal processed at once by one program.
MAX_BLOCK = 1024


@triton.jit
def _softmin3(left, diag, up, has_left, has_diag, has_up, gamma, inv_gamma, RELAXATION: tl.constexpr):
    """Value and derivatives ``(value, d_left, d_diag, d_up)`` of the three-way softmin over the present
    predecessors (see :func:`gtalign.ops.smoothmin.softmin3`); an absent one has weight exactly 0."""
    low = tl.minimum(tl.minimum(tl.where(has_left, left, float("inf")), tl.where(has_diag, diag, float("inf"))),
                     tl.where(has_up, up, float("inf")))
    zero = tl.zeros_like(low)
    if RELAXATION == 2:  # hard: one-hot of the first minimum in the order left, diag, up
        is_left = has_left & (left == low)
        is_diag = has_diag & (diag == low) & ~is_left
        value = low
        d_left = tl.where(is_left, zero + 1, zero)
        d_diag = tl.where(is_diag, zero + 1, zero)
        d_up = tl.where(~is_left & ~is_diag, zero + 1, zero)
    else:
        r_left = tl.where(has_left, left - low, zero)
        r_diag = tl.where(has_diag, diag - low, zero)
        r_up = tl.where(has_up, up - low, zero)
        e_left = tl.where(has_left, tl.exp(-r_left * inv_gamma), zero)
        e_diag = tl.where(has_diag, tl.exp(-r_diag * inv_gamma), zero)
        e_up = tl.where(has_up, tl.exp(-r_up * inv_gamma), zero)
        # The minimum's own term is exp(0) = 1, so a real cell has total in [1, 3]; the clamp only keeps the
        # lanes beyond the diagonal (masked on store) free of 0/0.
        total = tl.maximum(e_left + e_diag + e_up, zero + 1)
        w_left, w_diag, w_up = e_left / total, e_diag / total, e_up / total
        if RELAXATION == 1:  # min_gamma: value low - gamma log(sum), derivatives the weights
            value = low - gamma * tl.log(total)
            d_left, d_diag, d_up = w_left, w_diag, w_up
        else:  # smoothmin: value low + excess, derivative w_k (1 - (r_k - excess) / gamma), 0 where w_k = 0
            excess = w_left * r_left + w_diag * r_diag + w_up * r_up
            value = low + excess
            d_left = tl.where(w_left > 0, w_left * (1 - (r_left - excess) * inv_gamma), zero)
            d_diag = tl.where(w_diag > 0, w_diag * (1 - (r_diag - excess) * inv_gamma), zero)
            d_up = tl.where(w_up > 0, w_up * (1 - (r_up - excess) * inv_gamma), zero)
    return value, d_left, d_diag, d_up


@triton.jit(do_not_specialize=["N", "M"])
def _forward_kernel(cost_ptr, len_x_ptr, len_y_ptr, gamma_ptr, offsets_ptr, top_ptr, ring_ptr, d_ptr, row_ptr,
                    table_ptr, N, M, RELAXATION: tl.constexpr, TABLE: tl.constexpr, BLOCK: tl.constexpr):
    """One pair per program, from row 0 ``top (B, M+1)`` (``R[0, 0..M]``, +inf: absent): fill ``d (B, 3, N*M)`` and
    the last row ``row (B, M)`` (``R[len_x, j]``, ``j <= len_y``), or the valid cells of ``table (B, N+1, M+1)``
    when ``TABLE``."""
    b = tl.program_id(0).to(tl.int64)
    lx = tl.load(len_x_ptr + b)
    ly = tl.load(len_y_ptr + b)
    gamma = tl.load(gamma_ptr)
    inv_gamma = 1 / gamma
    nm = tl.cast(N, tl.int64) * M
    cost_b = cost_ptr + b * nm
    d_b = d_ptr + b * 3 * nm
    ring_b = ring_ptr + b * 3 * (N + 1)
    table_b = table_ptr + b * (N + 1) * (M + 1)
    row_b = row_ptr + b * M
    top_b = top_ptr + b * (M + 1)
    lanes = tl.arange(0, BLOCK).to(tl.int64)
    for k in range(2, lx + ly + 1):
        lo = tl.maximum(1, k - ly)
        hi = tl.minimum(lx, k - 1)
        d_k = d_b + tl.load(offsets_ptr + k) - tl.maximum(1, k - M)  # + i: the cell (i, k - i)
        cur = ring_b + (k % 3) * (N + 1)
        prev = ring_b + ((k - 1) % 3) * (N + 1)
        prev2 = ring_b + ((k - 2) % 3) * (N + 1)
        for start in range(lo, hi + 1, BLOCK):
            i = start + lanes
            j = k - i
            inside = i <= hi
            has_left, below_top, row1 = j > 1, i > 1, i == 1
            left = tl.load(prev + i, mask=inside & has_left, other=0.0, cache_modifier=".cg")  # R[i, j-1]
            up = tl.load(prev + i - 1, mask=inside & below_top, other=0.0, cache_modifier=".cg")  # R[i-1, j]
            diag = tl.load(prev2 + i - 1, mask=inside & has_left & below_top, other=0.0, cache_modifier=".cg")
            # row 1's predecessors above are row 0's cells R[0, j] and R[0, j-1], present where finite
            top_up = tl.load(top_b + j, mask=inside & row1, other=float("inf"))
            top_diag = tl.load(top_b + j - 1, mask=inside & row1, other=float("inf"))
            up = tl.where(row1, top_up, up)
            diag = tl.where(row1, top_diag, diag)
            has_up = below_top | (row1 & (top_up < float("inf")))
            has_diag = (has_left & below_top) | (row1 & (top_diag < float("inf")))
            value, d_left, d_diag, d_up = _softmin3(left, diag, up, has_left, has_diag, has_up, gamma, inv_gamma,
                                                    RELAXATION)
            r = value + tl.load(cost_b + (i - 1) * M + (j - 1), mask=inside, other=0.0)
            tl.store(cur + i, r, mask=inside)
            tl.store(d_k + i, d_left, mask=inside)
            tl.store(d_k + nm + i, d_diag, mask=inside)
            tl.store(d_k + 2 * nm + i, d_up, mask=inside)
            if TABLE:
                tl.store(table_b + i * (M + 1) + j, r, mask=inside)
            else:
                tl.store(row_b + j - 1, r, mask=inside & (i == lx))
        tl.debug_barrier()


@triton.jit(do_not_specialize=["N", "M"])
def _backward_kernel(d_ptr, offsets_ptr, len_x_ptr, len_y_ptr, grad_ptr, ring_ptr, out_ptr, grad_top_ptr, N, M,
                     FROM_TABLE: tl.constexpr, WITH_TOP: tl.constexpr, BLOCK: tl.constexpr):
    """One pair per program: ``out (B, N, M)`` (zero-initialised) from ``grad``: the last row's ``(B, M)`` or, when
    ``FROM_TABLE``, the table's ``(B, N+1, M+1)``; with ``WITH_TOP`` also the gradient with respect to row 0,
    ``grad_top (B, M+1)`` (zero-initialised): R[0, j] is the up-predecessor of (1, j), the diagonal one of
    (1, j+1)."""
    b = tl.program_id(0).to(tl.int64)
    lx = tl.load(len_x_ptr + b)
    ly = tl.load(len_y_ptr + b)
    nm = tl.cast(N, tl.int64) * M
    d_b = d_ptr + b * 3 * nm
    ring_b = ring_ptr + b * 3 * (N + 1)
    out_b = out_ptr + b * nm
    grad_top_b = grad_top_ptr + b * (M + 1)
    if FROM_TABLE:
        grad_b = grad_ptr + b * (N + 1) * (M + 1)
    else:
        grad_b = grad_ptr + b * M
    lanes = tl.arange(0, BLOCK).to(tl.int64)
    for step in range(0, lx + ly - 1):
        k = lx + ly - step
        lo = tl.maximum(1, k - ly)
        hi = tl.minimum(lx, k - 1)
        d_here = d_b + tl.load(offsets_ptr + k) - tl.maximum(1, k - M)  # + i: the cell (i, k - i)
        d_next = d_b + tl.load(offsets_ptr + k + 1) - tl.maximum(1, k + 1 - M)  # + i: the cell (i, k + 1 - i)
        d_next2 = d_b + tl.load(offsets_ptr + k + 2) - tl.maximum(1, k + 2 - M)
        cur = ring_b + (k % 3) * (N + 1)
        next1 = ring_b + ((k + 1) % 3) * (N + 1)
        next2 = ring_b + ((k + 2) % 3) * (N + 1)
        for start in range(lo, hi + 1, BLOCK):
            i = start + lanes
            j = k - i
            inside = i <= hi
            has_right = inside & (j < ly)  # successor (i, j+1) is a valid cell
            has_below = inside & (i < lx)  # successor (i+1, j)
            has_diag = has_right & has_below  # successor (i+1, j+1)
            if FROM_TABLE:
                g = tl.load(grad_b + i * (M + 1) + j, mask=inside, other=0.0)
            else:
                g = tl.load(grad_b + j - 1, mask=inside & (i == lx), other=0.0)
            g += tl.load(next1 + i, mask=has_right, other=0.0, cache_modifier=".cg") * tl.load(
                d_next + i, mask=has_right, other=0.0)
            g += tl.load(next2 + i + 1, mask=has_diag, other=0.0, cache_modifier=".cg") * tl.load(
                d_next2 + nm + i + 1, mask=has_diag, other=0.0)
            g += tl.load(next1 + i + 1, mask=has_below, other=0.0, cache_modifier=".cg") * tl.load(
                d_next + 2 * nm + i + 1, mask=has_below, other=0.0)
            tl.store(cur + i, g, mask=inside)
            tl.store(out_b + (i - 1) * M + (j - 1), g, mask=inside)
            if WITH_TOP:  # one lane (i = 1) per diagonal; the same thread adds to j - 1 on the next diagonal
                row1 = inside & (i == 1)
                to_up = g * tl.load(d_here + 2 * nm + i, mask=row1, other=0.0)
                to_diag = g * tl.load(d_here + nm + i, mask=row1, other=0.0)
                tl.store(grad_top_b + j, tl.load(grad_top_b + j, mask=row1, other=0.0) + to_up, mask=row1)
                tl.store(grad_top_b + j - 1, tl.load(grad_top_b + j - 1, mask=row1, other=0.0) + to_diag,
                         mask=row1)
        tl.debug_barrier()


def diagonal_offsets(n: int, m: int, device) -> torch.Tensor:
    """``offsets (N+M+3,)`` int64: ``offsets[k]`` is the number of cells ``(i, j)``, ``1 <= i <= N``,
    ``1 <= j <= M``, with ``i + j < k`` (where diagonal ``k`` starts in the compact layout)."""
    k = torch.arange(n + m + 3, device=device)
    size = (torch.minimum(k - 1, torch.tensor(n, device=device))
            - torch.maximum(k - m, torch.ones((), dtype=k.dtype, device=device)) + 1).clamp_min(0)
    return torch.cumsum(size, 0) - size


def launch_config(n: int, m: int) -> tuple[int, int]:
    """``(BLOCK, num_warps)`` for a table of N x M cells: a block covers a whole diagonal (at most min(N, M)
    cells) up to :data:`MAX_BLOCK`, with one cell per thread up to 16 warps (fastest on an H100, see
    docs/performance.md)."""
    block = min(MAX_BLOCK, max(32, triton.next_power_of_2(min(n, m))))
    return block, max(1, min(16, block // 32))


def _check_runs_here(cost: torch.Tensor) -> None:
    from triton.runtime.interpreter import InterpretedFunction

    if not cost.is_cuda and not isinstance(_forward_kernel, InterpretedFunction):
        raise GtalignError(f"the triton DTW backend needs a CUDA tensor, got cost on {cost.device} "
                           "(on the CPU it runs only under TRITON_INTERPRET=1, for testing)")


def _on_device(t: torch.Tensor):
    """Make ``t``'s GPU the current one for a launch (Triton launches on the current device)."""
    return torch.cuda.device(t.device) if t.is_cuda else contextlib.nullcontext()


@dataclass
class TritonState:
    """What the backward needs: the derivatives ``d (B, 3, N*M)``, the diagonal offsets, lengths and launch
    configuration."""

    d: torch.Tensor
    offsets: torch.Tensor
    len_x: torch.Tensor
    len_y: torch.Tensor
    shape: tuple[int, int, int]
    block: int
    num_warps: int
    with_top: bool = False


def forward(cost: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, gamma: float, relaxation: str,
            output: str, top: torch.Tensor | None = None, *, block: int | None = None, num_warps: int | None = None
            ) -> tuple[torch.Tensor, TritonState]:
    """DTW of ``cost (B, N, M)`` (contiguous, float32 or float64, on a CUDA device) from row 0 `top` ``(B, M+1)``
    (None: 0 then +inf): returns the scores ``(B,)``,
    the last rows ``(B, M)`` (+inf past ``len_y``) or the tables ``(B, N+1, M+1)`` (+inf border and padding), as
    `output` says, and the state for :func:`backward`. ``block`` (a power of two) and ``num_warps`` override
    :func:`launch_config`."""
    _check_runs_here(cost)
    b, n, m = cost.shape
    default_block, default_warps = launch_config(n, m)
    block, num_warps = block or default_block, num_warps or default_warps
    if block & (block - 1):
        raise GtalignError(f"block must be a power of two, got {block}")
    cost = cost.contiguous()
    len_x, len_y = len_x.to(cost.device, torch.int64).contiguous(), len_y.to(cost.device, torch.int64).contiguous()
    offsets = diagonal_offsets(n, m, cost.device)
    d = cost.new_empty((b, 3, n * m))
    ring = cost.new_empty((b, 3, n + 1))
    table = output == "table"
    row = cost.new_full((1, 1) if table else (b, m), float("inf"))
    out_table = cost.new_full((b, n + 1, m + 1) if table else (1, 1, 1), float("inf"))
    out_table[:, 0, 0] = 0
    if top is None:
        first = cost.new_full((b, m + 1), float("inf"))
        first[:, 0] = 0
    else:
        first = top.to(cost.dtype).contiguous()
        if table:
            out_table[:, 0, :] = first
    gamma_t = torch.full((1,), gamma if relaxation != "hard" else 1.0, dtype=cost.dtype, device=cost.device)
    with _on_device(cost):
        _forward_kernel[(b,)](cost, len_x, len_y, gamma_t, offsets, first, ring, d, row, out_table, n, m,
                              RELAXATION=RELAXATION_CODES[relaxation], TABLE=table, BLOCK=block,
                              num_warps=num_warps, num_stages=1)
    state = TritonState(d=d, offsets=offsets, len_x=len_x, len_y=len_y, shape=(b, n, m), block=block,
                        num_warps=num_warps, with_top=top is not None)
    if output == "score":
        return row.gather(1, (len_y - 1)[:, None])[:, 0], state
    return (out_table if table else row), state


def backward(state: TritonState, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Gradients with respect to the cost ``(B, N, M)`` and to row 0 ``(B, M+1)`` (None for the plain border),
    from the gradient of the scores ``(B,)``, of the last rows ``(B, M)`` or of the tables ``(B, N+1, M+1)``;
    border and padded cells are ignored."""
    b, n, m = state.shape
    grad = grad.to(device=state.d.device, dtype=state.d.dtype)
    if grad.dim() == 1:  # the score is the last row's cell at len_y
        grad = grad.new_zeros((b, m)).scatter_(1, (state.len_y - 1)[:, None], grad[:, None])
    grad = grad.contiguous()
    out = state.d.new_zeros((b, n, m))
    ring = state.d.new_empty((b, 3, n + 1))
    grad_top = state.d.new_zeros((b, m + 1) if state.with_top else (1, 1))
    with _on_device(out):
        _backward_kernel[(b,)](state.d, state.offsets, state.len_x, state.len_y, grad, ring, out, grad_top, n, m,
                               FROM_TABLE=grad.dim() == 3, WITH_TOP=state.with_top, BLOCK=state.block,
                               num_warps=state.num_warps, num_stages=1)
    return out, (grad_top if state.with_top else None)
