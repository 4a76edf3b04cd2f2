"""Global path constraints: the cells of the DTW table a path may use.

- Sakoe-Chiba band (``band=w``, or ``SakoeChiba(w)``): for a pair of lengths ``n <= m`` cell ``(i, j)`` is allowed
  when ``-w <= j - i <= (m - n) + w`` (the strip around the diagonal, widened by the length difference so that the
  last cell stays reachable); symmetrically for ``n > m``. ``w`` is an integer number of frames or, as a float in
  (0, 1], a fraction of the longer length (rounded up).
- Itakura parallelogram (``band=Itakura(s)``): the path's mean slope from the first cell and to the last cell stays
  within ``[1/s, s]`` (one cell of slack for the grid): ``i/s - 1 <= j <= s (i + 1)`` and the same measured back
  from ``(n-1, m-1)``. ``s`` must be at least the ratio of the two lengths, or no path fits.

The DP kernels stay as they are: cells outside the band get a finite cost so large that no soft minimum gives them
any weight (it exceeds every in-band path by more than ``800 * gamma``, where ``exp`` underflows to exactly 0 in
float64), so values and gradients equal those of the DP restricted to the band.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gtalign.errors import GtalignError

SAKOE_CHIBA_ERROR = "band must be None, an integer number of frames >= 0, a fraction in (0, 1] or Itakura(slope)"


@dataclass(frozen=True)
class SakoeChiba:
    """A band of `width` frames (an int >= 0) or `width` times the longer length (a float in (0, 1])."""

    width: int | float

    def __post_init__(self) -> None:
        w = self.width
        if isinstance(w, bool) or not isinstance(w, (int, float)) or (isinstance(w, int) and w < 0) or (
                isinstance(w, float) and not 0.0 < w <= 1.0):
            raise GtalignError(f"{SAKOE_CHIBA_ERROR}, got {w!r}")

    def mask(self, len_x: torch.Tensor, len_y: torch.Tensor, n: int, m: int) -> torch.Tensor:
        """``(B, n, m)`` bool, True inside each pair's band."""
        longer = torch.maximum(len_x, len_y).double()
        w = self.width
        width = (torch.ceil(w * longer) if isinstance(w, float) else torch.full_like(longer, w)).long()
        lag = (torch.arange(m, device=len_x.device)[None, :] - torch.arange(n, device=len_x.device)[:, None])[None]
        low = -width - (len_x - len_y).clamp_min(0)
        high = width + (len_y - len_x).clamp_min(0)
        return (lag >= low[:, None, None]) & (lag <= high[:, None, None])


@dataclass(frozen=True)
class Itakura:
    """The Itakura parallelogram of slopes within ``[1 / max_slope, max_slope]`` (``max_slope > 1``)."""

    max_slope: float

    def __post_init__(self) -> None:
        if isinstance(self.max_slope, bool) or not isinstance(self.max_slope, (int, float)) or not (
                self.max_slope > 1 and math.isfinite(self.max_slope)):
            raise GtalignError(f"Itakura max_slope must be a finite number > 1, got {self.max_slope!r}")

    def mask(self, len_x: torch.Tensor, len_y: torch.Tensor, n: int, m: int) -> torch.Tensor:
        """``(B, n, m)`` bool, True inside each pair's parallelogram."""
        s = float(self.max_slope)
        ratio = torch.maximum(len_x / len_y, len_y / len_x)
        if bool((ratio > s * (1 + 1e-9)).any()):
            raise GtalignError(f"Itakura max_slope {s:g} is below the ratio of the lengths "
                               f"({float(ratio.max()):.3g}): no path fits")
        i = torch.arange(n, device=len_x.device, dtype=torch.float64)[None, :, None]
        j = torch.arange(m, device=len_x.device, dtype=torch.float64)[None, None, :]
        back_i = (len_x[:, None, None] - 1) - i
        back_j = (len_y[:, None, None] - 1) - j
        return ((j >= i / s - 1) & (j <= s * (i + 1)) & (back_j >= back_i / s - 1) & (back_j <= s * (back_i + 1)))


Band = int | float | SakoeChiba | Itakura | None


def check_band(band: Band) -> SakoeChiba | Itakura | None:
    """`band` as a constraint (an int or float is a Sakoe-Chiba width), None for none; else a GtalignError."""
    if band is None or isinstance(band, (SakoeChiba, Itakura)):
        return band
    if isinstance(band, bool) or not isinstance(band, (int, float)):
        raise GtalignError(f"{SAKOE_CHIBA_ERROR}, got {band!r}")
    return SakoeChiba(band)


def _shared_mask(len_x: torch.Tensor, len_y: torch.Tensor, n: int, m: int,
                 constraint: SakoeChiba | Itakura) -> torch.Tensor:
    """``(B, n, m)`` bool, or ``(1, n, m)`` when every pair has the same lengths (one mask for the whole batch)."""
    if bool((len_x == len_x[0]).all() and (len_y == len_y[0]).all()):
        return constraint.mask(len_x[:1], len_y[:1], n, m)
    return constraint.mask(len_x, len_y, n, m)


def band_mask(len_x: torch.Tensor, len_y: torch.Tensor, n: int, m: int, band: Band) -> torch.Tensor:
    """``(B, n, m)`` bool, True where pair b (lengths ``len_x[b], len_y[b]``, both ``(B,)``) may go."""
    constraint = check_band(band)
    if constraint is None:
        return torch.ones(len(len_x), n, m, dtype=torch.bool, device=len_x.device)
    return _shared_mask(len_x, len_y, n, m, constraint).expand(len(len_x), n, m)


def apply_band(cost: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, band: Band,
               gamma: float) -> torch.Tensor:
    """``cost (B, N, M)`` with the cells outside the band set to a cost no path through them can afford."""
    batch, n, m = cost.shape
    low, high = torch.aminmax(cost.detach())
    biggest = max(abs(float(low)), abs(float(high)))
    steps = n + m
    penalty = 2.0 * steps * biggest + (steps + 800.0) * gamma + 1.0
    if steps * penalty > torch.finfo(cost.dtype).max / 4:
        raise GtalignError(f"band: costs up to {biggest:.3g} over {n} x {m} cells overflow "
                           f"{str(cost.dtype).split('.')[-1]} once the cells outside the band are excluded; "
                           f"rescale the costs or use float64")
    constraint = check_band(band)
    if constraint is None:
        return cost
    inside = _shared_mask(len_x, len_y, n, m, constraint)
    return torch.where(inside, cost, cost.new_tensor(penalty))  # where: half the time of masked_fill here
