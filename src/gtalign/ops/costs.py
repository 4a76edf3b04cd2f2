"""Frame-to-frame cost matrices between two sequences of embeddings.

All functions map ``x (..., N, D)`` and ``y (..., M, D)`` to a cost ``(..., N, M)``; leading dimensions
broadcast, dtype and device follow the input.
"""
from __future__ import annotations

import torch

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe


def _check_pair(x: torch.Tensor, y: torch.Tensor, validate: bool) -> None:
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise GtalignError(f"{name} must be a floating-point torch.Tensor (..., frames, D), got {describe(t)}")
        if t.dim() < 2:
            raise GtalignError(f"{name} must have shape (..., frames, D) with at least 2 dimensions, "
                               f"got {describe(t)}")
        if t.shape[-2] == 0 or t.shape[-1] == 0:
            raise GtalignError(f"{name} must have at least one frame and one feature, got {describe(t)}")
        if validate:
            check_finite(name, t)
    if x.shape[-1] != y.shape[-1]:
        raise GtalignError(f"x and y must have the same feature size D, got x {tuple(x.shape)} and y {tuple(y.shape)}")
    try:
        torch.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except RuntimeError:
        raise GtalignError(f"the leading (batch) dimensions of x {tuple(x.shape)} and y {tuple(y.shape)} "
                           "must broadcast") from None


def _lengths_of_x(lengths, x: torch.Tensor) -> torch.Tensor | None:
    """The valid frame counts of x, ``(B,)`` int64, from ``lengths`` = len_x or (len_x, len_y)."""
    if lengths is None:
        return None
    if isinstance(lengths, (tuple, list)) and len(lengths) == 2:
        lengths = lengths[0]
    len_x = torch.as_tensor(lengths, device=x.device)
    if x.dim() != 3 or len_x.shape != x.shape[:1] or len_x.is_floating_point():
        raise GtalignError(f"lengths must be integer tensors of shape (B,) matching x of shape (B, N, D), "
                           f"got lengths {describe(len_x)} for x {tuple(x.shape)}")
    if bool((len_x < 1).any()) or bool((len_x > x.shape[1]).any()):
        raise GtalignError(f"lengths of x must lie in 1..{x.shape[1]}, got {len_x.tolist()}")
    return len_x.long()


def contrastive_cost(x: torch.Tensor, y: torch.Tensor, temperature: float = 0.1, lengths=None,
                     validate: bool = True) -> torch.Tensor:
    """Column-wise contrastive cost of docs/method.md Sec. 2: ``C[i, j] = -log softmax_i(x_i . y_j / temperature)``.

    For each frame j of ``y`` a softmax over the N frames of ``x`` (the anchor), so every column of
    ``exp(-C)`` sums to 1.

    Args:
        x: ``(..., N, D)`` anchor embeddings (L2-normalised by the embedder; not required here).
        y: ``(..., M, D)`` embeddings.
        temperature: ``gamma_f > 0``.
        lengths: optional valid lengths for padded batches (x of shape ``(B, N, D)``): ``len_x`` ``(B,)`` or
            ``(len_x, len_y)``. Padded frames of x are excluded from the softmax; their (irrelevant) cost is 0.
        validate: check that x and y are finite (a device sync each); False where the caller has checked them.
    Returns:
        ``(..., N, M)`` costs >= 0.
    """
    _check_pair(x, y, validate)
    if not float(temperature) > 0:
        raise GtalignError(f"temperature must be > 0, got {temperature!r}")
    logits = torch.matmul(x, y.transpose(-1, -2)) / float(temperature)
    len_x = _lengths_of_x(lengths, x)
    if len_x is None:
        return -torch.log_softmax(logits, dim=-2)
    padded = (torch.arange(x.shape[1], device=x.device)[None, :] >= len_x[:, None])[:, :, None]  # (B, N, 1)
    cost = -torch.log_softmax(logits.masked_fill(padded, float("-inf")), dim=-2)
    return cost.masked_fill(padded, 0.0)


def sqeuclidean_cost(x: torch.Tensor, y: torch.Tensor, validate: bool = True) -> torch.Tensor:
    """Squared Euclidean distances ``C[i, j] = |x_i - y_j|^2``: ``(..., N, D), (..., M, D) -> (..., N, M)``
    (``validate`` as in :func:`contrastive_cost`)."""
    _check_pair(x, y, validate)
    x2 = (x * x).sum(-1, keepdim=True)
    y2 = (y * y).sum(-1).unsqueeze(-2)
    return (x2 + y2 - 2 * torch.matmul(x, y.transpose(-1, -2))).clamp_min(0.0)


def cosine_cost(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-8, validate: bool = True) -> torch.Tensor:
    """Cosine distances ``C[i, j] = 1 - cos(x_i, y_j)`` in [0, 2]: ``(..., N, D), (..., M, D) -> (..., N, M)``
    (``validate`` as in :func:`contrastive_cost`)."""
    _check_pair(x, y, validate)
    xn = x / x.norm(dim=-1, keepdim=True).clamp_min(eps)
    yn = y / y.norm(dim=-1, keepdim=True).clamp_min(eps)
    return 1.0 - torch.matmul(xn, yn.transpose(-1, -2))
