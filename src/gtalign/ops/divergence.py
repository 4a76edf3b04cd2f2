"""The soft-DTW divergence (Blondel, Mensch, Vert, AISTATS 2021): ``D(x, y) = sdtw(x, y) - (sdtw(x, x) +
sdtw(y, y)) / 2`` with ``sdtw`` the ``min_gamma`` DTW score of squared Euclidean costs.

Unlike the soft-DTW score itself it is zero for equal sequences and non-negative (for the squared Euclidean cost),
so it can be read as "how different are these two sequences, up to timing" and minimised without the trivial
collapse that the raw score allows.
"""
from __future__ import annotations

from typing import Sequence

import torch

from gtalign.ops.costs import sqeuclidean_cost
from gtalign.ops.dtw import smooth_dtw


def soft_dtw_divergence(x: torch.Tensor, y: torch.Tensor, gamma: float = 1.0,
                        lengths: Sequence[torch.Tensor] | None = None, backend: str = "auto",
                        validate: bool = True) -> torch.Tensor:
    """``D(x, y)`` of each pair: ``x (B, N, D)``, ``y (B, M, D)`` (or unbatched ``(N, D)``, ``(M, D)``) -> ``(B,)``
    (or a scalar). ``lengths=(len_x, len_y)`` for padded batches. Differentiable w.r.t. both inputs. ``validate``:
    check x and y (finite) and their cost (no overflow) once; False where the caller has checked them."""
    unbatched = x.dim() == 2
    if unbatched:
        x, y = x[None], y[None]
    xy_len: tuple[torch.Tensor, torch.Tensor] | None = None
    xx_len = yy_len = xy_len
    if lengths is not None:
        len_x, len_y = (torch.as_tensor(t, device=x.device) for t in lengths)
        xy_len, xx_len, yy_len = (len_x, len_y), (len_x, len_x), (len_y, len_y)
    xy = smooth_dtw(sqeuclidean_cost(x, y, validate), gamma, "min_gamma", xy_len, backend, validate=validate)
    xx = smooth_dtw(sqeuclidean_cost(x, x, False), gamma, "min_gamma", xx_len, backend, validate=False)
    yy = smooth_dtw(sqeuclidean_cost(y, y, False), gamma, "min_gamma", yy_len, backend, validate=False)
    out = xy - 0.5 * (xx + yy)
    return out[0] if unbatched else out
