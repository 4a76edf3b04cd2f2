"""smoothDTW of two long sequences in memory that grows with ``sqrt(N) * M``, not ``N * M``.

:func:`gtalign.ops.smooth_dtw` keeps the cost matrix, the whole table and three local derivatives per cell for its
backward: ``(N + 1) * (M + 1) * 5`` values, 8 GB in float32 at N = M = 20,000. Here the cost is never held whole.
The rows are swept in blocks of ``K`` rows (``K = ceil(sqrt(N))`` by default), each by the one DTW core:

- forward: each block's costs are computed from its K frames of x and all of y, and the core sweeps them from the
  row above the block (its ``first_row``) to the block's last row (:func:`gtalign.ops.smooth_dtw_last_row`), which
  is the next block's row above; only these rows are kept (checkpoints);
- backward: the blocks are taken last to first; each block's costs and sweep are recomputed from its checkpoint, and
  the gradient arriving at its last row goes back through the core's analytic backward to the block's costs (and
  by autograd to its frames of x and to y) and to the row above, which is the gradient arriving at the last row of
  the block before.

Memory: ``N / K + 1`` checkpoint rows and one block of ``K x M`` costs, derivatives and adjoints, about
``8 sqrt(N) M`` values (90 MB in float32 at N = M = 20,000). Time: the forward twice and the backward once, with
the costs computed twice (matrix products). One pair at a time; it runs wherever the core does (numba on the CPU,
Triton on a CUDA GPU, torch elsewhere), so a GPU aligns sequences of any length in its memory.
"""
from __future__ import annotations

import math
from typing import Callable, Literal

import torch
from torch.autograd.function import once_differentiable

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.ops.costs import cosine_cost, sqeuclidean_cost
from gtalign.ops.dtw import smooth_dtw_last_row
from gtalign.ops.smoothmin import Relaxation, check_gamma, check_relaxation
from gtalign.registry import check_choice, choices

#: The named costs of two frames that a long alignment computes block by block.
LongCost = Literal["sqeuclidean", "cosine", "negative_dot"]
_COSTS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "sqeuclidean": lambda x, y: sqeuclidean_cost(x, y, validate=False),
    "cosine": lambda x, y: cosine_cost(x, y, validate=False),
    "negative_dot": lambda x, y: -(x @ y.T),
}


def _blocks(n: int, block: int) -> list[tuple[int, int]]:
    return [(lo, min(n, lo + block)) for lo in range(0, n, block)]


class _State:
    def __init__(self, cost_fn, gamma: float, relaxation: Relaxation, block: int, backend: str) -> None:
        self.cost_fn, self.gamma, self.relaxation, self.block, self.backend = cost_fn, gamma, relaxation, block, backend
        self.checkpoints: list[torch.Tensor] = []

    def sweep(self, x_block: torch.Tensor, y: torch.Tensor, above: torch.Tensor) -> torch.Tensor:
        """The last row ``(M,)`` of a block of rows swept from the row `above` ``(M+1,)``."""
        return smooth_dtw_last_row(self.cost_fn(x_block, y), self.gamma, self.relaxation, backend=self.backend,
                                   validate=False, first_row=above)


def _next_above(last: torch.Tensor) -> torch.Tensor:
    """The row above the next block: +inf (column 0, the border), then this block's last row."""
    return torch.cat([last.new_full((1,), float("inf")), last])


class _LongDTW(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, state: _State):
        x, y = x.detach(), y.detach()
        above = x.new_full((y.shape[0] + 1,), float("inf"))
        above[0] = 0.0
        with torch.no_grad():
            for lo, hi in _blocks(x.shape[0], state.block):
                state.checkpoints.append(above)
                above = _next_above(state.sweep(x[lo:hi], y, above))
        ctx.state = state
        ctx.save_for_backward(x, y)
        return above[-1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        state: _State = ctx.state
        grad_last = torch.zeros_like(y[:, 0])  # the gradient arriving at the block's last row R[hi, 1..M]
        grad_last[-1] = grad
        grad_x, grad_y = torch.zeros_like(x), torch.zeros_like(y)
        blocks = _blocks(x.shape[0], state.block)
        for k in range(len(blocks) - 1, -1, -1):
            lo, hi = blocks[k]
            with torch.enable_grad():
                xb, yl = x[lo:hi].detach().requires_grad_(True), y.detach().requires_grad_(True)
                above = state.checkpoints[k].detach().requires_grad_(k > 0)
                last = state.sweep(xb, yl, above)
                inputs = (xb, yl, above) if k > 0 else (xb, yl)
                grads = torch.autograd.grad(last, inputs, grad_last)
            grad_x[lo:hi] = grads[0]
            grad_y += grads[1]
            if k > 0:
                grad_last = grads[2][1:]  # the row above's cells R[lo, 1..M]; column 0 is the border
        return grad_x, grad_y, None


def _check_sequence(name: str, t) -> torch.Tensor:
    if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.dim() != 2 or 0 in t.shape:
        raise GtalignError(f"{name} must be a floating-point torch.Tensor (frames, D) with at least one frame, "
                           f"got {describe(t)}")
    check_finite(name, t)
    return t


def long_smooth_dtw(x: torch.Tensor, y: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
                    cost: LongCost = "sqeuclidean", block: int | None = None, backend: str = "auto") -> torch.Tensor:
    """The smoothDTW score of two long sequences, without the N x M cost matrix or table.

    Equal to ``smooth_dtw(named_cost(x, y), gamma, relaxation)`` (to rounding), in memory that grows with
    ``sqrt(N) * M`` (module docstring).

    Args:
        x: ``(N, D)`` float32 or float64 frames on any device (the longer sequence as x uses less memory).
        y: ``(M, D)``, same dtype and device.
        gamma: ``>= 0``; 0 gives the hard DTW score.
        relaxation: ``"smoothmin"``, ``"min_gamma"`` (soft-DTW) or ``"hard"``, as in :func:`gtalign.ops.smooth_dtw`.
        cost: ``"sqeuclidean"`` (``|x_i - y_j|^2``), ``"cosine"`` (``1 - cos``) or ``"negative_dot"``
            (``-x_i . y_j``).
        block: rows per block (default ``ceil(sqrt(N))``): larger is faster and takes more memory.
        backend: the core's backend for the blocks, as in :func:`gtalign.ops.smooth_dtw` (``"auto"``: numba on the
            CPU, Triton on a CUDA GPU).
    Returns:
        A scalar tensor, differentiable with respect to x and y (first derivatives).
    """
    x, y = _check_sequence("x", x), _check_sequence("y", y)
    if x.shape[1] != y.shape[1] or x.dtype != y.dtype or x.device != y.device:
        raise GtalignError(f"x and y must have the same feature size D, dtype and device, got {describe(x)} on "
                           f"{x.device} and {describe(y)} on {y.device}")
    if x.dtype not in (torch.float32, torch.float64):
        raise GtalignError(f"x and y must be float32 or float64, got {x.dtype}")
    gamma = check_gamma(gamma)
    relaxation = "hard" if gamma == 0 else check_relaxation(relaxation)
    cost_name = check_choice("cost", cost, choices(LongCost))
    if block is None:
        block = math.ceil(math.sqrt(x.shape[0]))
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise GtalignError(f"block must be a whole number of rows >= 1, got {block!r}")
    state = _State(_COSTS[cost_name], gamma, relaxation, block, backend)
    return _LongDTW.apply(x, y, state)
