"""A Sakoe-Chiba band: the cells of the DTW table a path may use, near the diagonal.

For a pair of lengths ``n <= m`` cell ``(i, j)`` lies in the band of half-width ``w`` when
``-w <= j - i <= (m - n) + w`` (the strip around the diagonal, widened by the length difference so that the last
cell stays reachable); symmetrically for ``n > m``. ``band`` is an integer number of frames or, as a float in
(0, 1], a fraction of the longer length (rounded up).

The DP kernels stay as they are: cells outside the band get a finite cost so large that no soft minimum gives them
any weight (it exceeds every in-band path by more than ``800 * gamma``, where ``exp`` underflows to exactly 0 in
float64), so values and gradients equal those of the DP restricted to the band.
"""
from __future__ import annotations

import math

import torch

from gtalign.errors import GtalignError

Band = int | float | None


def check_band(band: Band) -> Band:
    """`band` if it is None, an integer >= 0 or a float in (0, 1]; else a GtalignError."""
    if band is None:
        return None
    if isinstance(band, bool) or not isinstance(band, (int, float)):
        raise GtalignError(f"band must be None, an integer number of frames >= 0 or a fraction in (0, 1], "
                           f"got {band!r}")
    if isinstance(band, int) and band < 0 or isinstance(band, float) and not 0.0 < band <= 1.0:
        raise GtalignError(f"band must be an integer number of frames >= 0 or a fraction in (0, 1], got {band!r}")
    return band


def band_mask(len_x: torch.Tensor, len_y: torch.Tensor, n: int, m: int, band: int | float) -> torch.Tensor:
    """``(B, n, m)`` bool, True inside each pair's band (pair b has lengths ``len_x[b], len_y[b]``, both ``(B,)``)."""
    longer = torch.maximum(len_x, len_y).double()
    width = (torch.ceil(band * longer) if isinstance(band, float) else torch.full_like(longer, band)).long()
    lag = (torch.arange(m, device=len_x.device)[None, :] - torch.arange(n, device=len_x.device)[:, None])[None]
    low = -width - (len_x - len_y).clamp_min(0)
    high = width + (len_y - len_x).clamp_min(0)
    return (lag >= low[:, None, None]) & (lag <= high[:, None, None])


def apply_band(cost: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, band: int | float,
               gamma: float) -> torch.Tensor:
    """``cost (B, N, M)`` with the cells outside the band set to a cost no path through them can afford."""
    batch, n, m = cost.shape
    biggest = float(cost.detach().abs().amax()) if cost.numel() else 0.0
    steps = n + m
    penalty = 2.0 * steps * biggest + (steps + 800.0) * gamma + 1.0
    if steps * penalty > torch.finfo(cost.dtype).max / 4:
        raise GtalignError(f"band: costs up to {biggest:.3g} over {n} x {m} cells overflow "
                           f"{str(cost.dtype).split('.')[-1]} once the cells outside the band are excluded; "
                           f"rescale the costs or use float64")
    if not math.isfinite(penalty):  # pragma: no cover - caught above
        raise GtalignError("band: non-finite penalty")
    return cost.masked_fill(~band_mask(len_x, len_y, n, m, band), penalty)
