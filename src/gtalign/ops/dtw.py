"""Differentiable DTW ("smoothDTW", docs/method.md Sec. 3): public functions, validation and backend dispatch.

``R[0, 0] = 0``, ``R[0, j>0] = R[i>0, 0] = +inf`` and
``R[i, j] = C[i-1, j-1] + softmin(R[i, j-1], R[i-1, j-1], R[i-1, j])`` with softmin one of
:data:`~gtalign.ops.smoothmin.RELAXATIONS`. The score of a pair is ``R[len_x, len_y]``.

The analytic backward (a custom autograd Function) uses the local softmin derivatives stored in the forward
sweep, so gradients are exact in float32 even for large costs and tiny gamma, and the table is differentiable
with respect to every cell. Backends are a small table, :data:`BACKENDS`: ``"triton"`` (CUDA kernels, used when
named), ``"numba"`` (compiled CPU kernel) and ``"torch"`` (vectorized anti-diagonals, any device);
``backend="auto"`` picks the first allowed one that runs on the cost's device.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Callable, Literal, NamedTuple, Sequence

import torch
from torch.autograd.function import once_differentiable

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.ops.band import Band, apply_band, check_band
from gtalign.ops.smoothmin import Relaxation, check_gamma, check_relaxation
from gtalign.registry import Registry, check_choice

#: What a sweep returns: ``"score"`` ``R[len_x, len_y]`` ``(B,)``; ``"row"`` the last row ``R[len_x, 1..M]``
#: ``(B, M)`` (+inf past ``len_y``), what open-end and subsequence DTW take their soft minimum over; ``"table"``
#: the whole table ``(B, N+1, M+1)``. Each backend's backward takes the gradient of the same shape.
Output = Literal["score", "row", "table"]
OUTPUTS: tuple[str, ...] = ("score", "row", "table")


class Backend(NamedTuple):
    """A DTW implementation: ``module`` provides ``forward(cost, len_x, len_y, gamma, relaxation, output)
    -> (out, state)`` (`output` one of :data:`OUTPUTS`) and ``backward(state, grad) -> grad_cost``;
    ``supports(device)`` says where it runs, ``auto`` whether ``backend="auto"`` may pick it."""

    module: str
    supports: Callable[[torch.device], bool]
    available: Callable[[], bool]
    auto: bool = True


def _installed(package: str) -> Callable[[], bool]:
    return lambda: importlib.util.find_spec(package) is not None


#: Backends in order of preference for ``backend="auto"``. The Triton kernels passed benchmarks/gpu_check.sh on an
#: H100 (values and gradients equal to the numba kernel up to B=64, N=M=4096; see docs/performance.md).
BACKENDS: Registry = Registry("backend", {
    "triton": Backend("gtalign.ops.dtw_triton", lambda device: device.type == "cuda", _installed("triton")),
    "numba": Backend("gtalign.ops.dtw_numba", lambda device: device.type == "cpu", _installed("numba")),
    "torch": Backend("gtalign.ops.dtw_torch", lambda device: True, lambda: True),
})


def _pick_backend(name: str, device: torch.device):
    if name == "auto":
        for backend in BACKENDS.values():
            if backend.auto and backend.supports(device) and backend.available():
                return importlib.import_module(backend.module)
        raise GtalignError(f"no DTW backend runs on device {device}")  # pragma: no cover - torch runs anywhere
    backend = BACKENDS[check_choice("backend", name, ["auto", *BACKENDS])]
    if not backend.supports(device) or not backend.available():
        raise GtalignError(f"backend {name!r} cannot run on device {device}"
                           + ("" if backend.available() else " (not installed)"))
    return importlib.import_module(backend.module)


class _SmoothDTW(torch.autograd.Function):
    """Autograd wrapper: the forward and the analytic backward of one backend."""

    @staticmethod
    def forward(ctx, cost, len_x, len_y, gamma, relaxation, backend, output, first_row):
        top = None if first_row is None else first_row.detach().contiguous()
        out, ctx.state = backend.forward(cost.detach().contiguous(), len_x, len_y, gamma, relaxation, output, top)
        ctx.backend = backend
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        grad_cost, grad_first_row = ctx.backend.backward(ctx.state, grad.contiguous())
        return grad_cost, None, None, None, None, None, None, grad_first_row


def _check_cost(cost, validate: bool = True) -> torch.Tensor:
    if not isinstance(cost, torch.Tensor) or not cost.is_floating_point():
        raise GtalignError(f"cost must be a floating-point torch.Tensor of shape (N, M) or (B, N, M), "
                           f"got {describe(cost)}")
    if cost.dim() not in (2, 3):
        raise GtalignError(f"cost must have shape (N, M) or (B, N, M), got {describe(cost)}")
    if cost.numel() == 0:
        raise GtalignError(f"cost must be non-empty (B, N, M >= 1), got {describe(cost)}")
    if not validate:  # the value checks below cost a device sync each
        return cost
    check_finite("cost", cost)
    # the DP sums costs along paths of up to N + M cells: finite costs near the dtype's largest value overflow to
    # inf there and come back as NaN (half precision is computed in float32)
    work = cost.dtype if cost.dtype in (torch.float32, torch.float64) else torch.float32
    limit = torch.finfo(work).max / (4.0 * (cost.shape[-2] + cost.shape[-1]))
    biggest = float(cost.detach().abs().max())
    if biggest > limit:
        raise GtalignError(f"cost holds values up to {biggest:.3g}, which overflow {str(work).split('.')[-1]} when "
                           f"the DP sums them over a path of up to {cost.shape[-2] + cost.shape[-1]} cells (largest "
                           f"safe magnitude {limit:.3g}); rescale the costs or use float64")
    return cost


def _check_lengths(lengths, batch: int, n: int, m: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(len_x, len_y)``, each ``(B,)`` int64 on ``device``; full lengths when ``lengths`` is None."""
    if lengths is None:
        full = torch.ones(batch, dtype=torch.long, device=device)
        return full * n, full * m
    if not isinstance(lengths, (tuple, list)) or len(lengths) != 2:
        raise GtalignError(f"lengths must be a pair (len_x, len_y) of (B,) integer tensors, got {describe(lengths)}")
    out = []
    for name, value, limit in (("len_x", lengths[0], n), ("len_y", lengths[1], m)):
        t = torch.as_tensor(value, device=device)
        if t.is_floating_point() or t.is_complex() or t.reshape(-1).shape != (batch,):
            raise GtalignError(f"lengths {name} must be an integer tensor of shape ({batch},), got {describe(t)}")
        t = t.reshape(batch).long()
        if bool((t < 1).any()) or bool((t > limit).any()):
            raise GtalignError(f"lengths {name} must lie in 1..{limit}, got {t.tolist()}")
        out.append(t)
    return out[0], out[1]


def _check_first_row(first_row, cost: torch.Tensor, validate: bool) -> torch.Tensor | None:
    """`first_row` as ``(B, M+1)`` in the cost's dtype (None stays None): values finite or +inf."""
    if first_row is None:
        return None
    m = cost.shape[-1]
    shape = (m + 1,) if cost.dim() == 2 else (cost.shape[0], m + 1)
    if not isinstance(first_row, torch.Tensor) or not first_row.is_floating_point() or tuple(first_row.shape) != shape:
        raise GtalignError(f"first_row must be a floating-point torch.Tensor of shape {shape} (R[0, 0..M] of each "
                           f"pair), got {describe(first_row)}")
    if first_row.device != cost.device:
        raise GtalignError(f"first_row must be on the cost's device {cost.device}, got {first_row.device}")
    if validate and bool((torch.isnan(first_row) | (first_row == float("-inf"))).any()):
        raise GtalignError("first_row must hold finite values or +inf (a cell no path starts from), got NaN or -inf")
    row = first_row.to(cost.dtype)
    return row.unsqueeze(0) if cost.dim() == 2 else row


def _run(cost, gamma, relaxation, lengths, backend, output: Output, validate: bool = True,
         band: Band = None, first_row: torch.Tensor | None = None) -> torch.Tensor:
    cost = _check_cost(cost, validate)
    gamma = check_gamma(gamma)
    relaxation = check_relaxation(relaxation)
    band = check_band(band)
    if gamma == 0:
        relaxation = "hard"
    if relaxation == "hard":
        gamma = 1.0  # unused by the hard minimum; keeps the kernels free of 1/0
    impl = _pick_backend(backend, cost.device)
    if cost.dtype not in (torch.float32, torch.float64):  # half precision: computed in float32
        row = None if first_row is None else first_row.float()
        return _run(cost.float(), gamma, relaxation, lengths, backend, output, False, band, row).to(cost.dtype)
    unbatched = cost.dim() == 2
    batch_cost = cost.unsqueeze(0) if unbatched else cost
    batch, n, m = batch_cost.shape
    len_x, len_y = _check_lengths(lengths, batch, n, m, cost.device)
    if band is not None:
        batch_cost = apply_band(batch_cost, len_x, len_y, band, gamma)
    top = _check_first_row(first_row, cost, validate)
    out = _SmoothDTW.apply(batch_cost, len_x, len_y, gamma, relaxation, impl, output, top)
    return out.squeeze(0) if unbatched else out


def smooth_dtw(cost: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
               lengths: Sequence[torch.Tensor] | None = None, backend: str = "auto",
               validate: bool = True, band: Band = None, first_row: torch.Tensor | None = None) -> torch.Tensor:
    """The DTW alignment score ``R[len_x, len_y]`` of each pair.

    Args:
        cost: ``(B, N, M)`` or ``(N, M)`` finite frame costs (padded entries too).
        gamma: ``gamma_s >= 0``; 0 gives the hard DTW.
        relaxation: ``"smoothmin"`` (GTA, default), ``"min_gamma"`` (soft-DTW / D3TW) or ``"hard"``.
        lengths: optional ``(len_x, len_y)``, two ``(B,)`` integer tensors for padded batches.
        backend: ``"auto"``, ``"numba"`` (CPU) or ``"torch"`` (any device).
        validate: check that the cost is finite and cannot overflow along a path (a device sync each); False
            where the caller has checked what the cost is made from (the losses check their embeddings).
        band: a global path constraint (`gtalign.ops.band`): a Sakoe-Chiba band of this many frames (an
            integer) or this fraction of the longer length (a float in (0, 1]) about the diagonal, or
            ``Itakura(max_slope)``; None: none.
        first_row: the table's row 0, ``R[0, 0..M]``, ``(B, M+1)`` (or ``(M+1,)``), finite values or +inf; None:
            0 then +inf (a path starts at the first cell). Zeros after a +inf let ``x`` start anywhere in ``y``
            (subsequence DTW); the last row of a previous block of rows (with +inf in front) continues its table
            (:func:`gtalign.ops.long_smooth_dtw`). Differentiable like ``cost``.
    Returns:
        ``(B,)`` scores, or a scalar for an unbatched cost. Differentiable with respect to ``cost``.
    """
    return _run(cost, gamma, relaxation, lengths, backend, "score", validate, band, first_row)


def smooth_dtw_table(cost: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
                     lengths: Sequence[torch.Tensor] | None = None, backend: str = "auto",
                     validate: bool = True, band: Band = None, first_row: torch.Tensor | None = None
                     ) -> torch.Tensor:
    """The whole DTW table ``R``, differentiable with respect to every cell.

    Arguments as for :func:`smooth_dtw`. Returns ``(B, N+1, M+1)`` (or ``(N+1, M+1)``) with ``R[:, 0, 0] = 0``
    and ``+inf`` on the border (row 0 and column 0) and on padded cells (``i > len_x`` or ``j > len_y``);
    gradients arriving at those cells are ignored. With a `band`, cells outside it hold large finite values that
    no in-band path reaches.
    """
    return _run(cost, gamma, relaxation, lengths, backend, "table", validate, band, first_row)


def smooth_dtw_last_row(cost: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
                        lengths: Sequence[torch.Tensor] | None = None, backend: str = "auto",
                        validate: bool = True, band: Band = None, first_row: torch.Tensor | None = None
                        ) -> torch.Tensor:
    """The last row of the DTW table, ``R[len_x, j]`` for ``j = 1..M``: the scores of ``x`` aligned to every prefix
    of ``y``, differentiable with respect to each of them.

    Arguments as for :func:`smooth_dtw`. Returns ``(B, M)`` (or ``(M,)``), ``+inf`` past ``len_y``. An open end
    (or a subsequence search, :func:`gtalign.ops.subsequence_dtw`) takes a minimum over this row; it costs one sweep
    and one row, where :func:`smooth_dtw_table` returns and differentiates every cell.
    """
    return _run(cost, gamma, relaxation, lengths, backend, "row", validate, band, first_row)


def soft_alignment(cost: torch.Tensor, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
                   lengths: Sequence[torch.Tensor] | None = None, backend: str = "auto",
                   validate: bool = True, band: Band = None) -> torch.Tensor:
    """The expected alignment matrix: the gradient of :func:`smooth_dtw`'s score with respect to the cost.

    Arguments as for :func:`smooth_dtw`. Returns ``(B, N, M)`` (or ``(N, M)``), zero on padded cells; for
    ``"hard"`` it is the 0/1 matrix of the optimal path. Not differentiable itself.
    """
    with torch.enable_grad():
        leaf = _check_cost(cost, validate).detach().requires_grad_(True)
        score = smooth_dtw(leaf, gamma, relaxation, lengths, backend, validate=False, band=band)
        (grad,) = torch.autograd.grad(score.sum(), leaf)
    return grad
