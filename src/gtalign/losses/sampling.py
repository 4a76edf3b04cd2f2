"""Random choices made by the losses that sample (Shuffle & Learn tuples, SpeedNet clips, D3TW* drops).

Every draw depends only on the valid lengths, never on the padded size T, so a padded batch and the same
videos unpadded get the same samples from the same seed. Draws are made on the CPU and moved to the device.
"""
from __future__ import annotations

import torch

from gtalign.errors import GtalignError


class Sampler:
    """A source of uniform draws: seeded (reproducible) or, with ``seed=None``, torch's global generator."""

    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, int):
            raise GtalignError(f"seed must be an int or None, got {seed!r}")
        self.seed = seed
        self._generator: torch.Generator | None = None

    def uniform(self, *shape: int, device=None) -> torch.Tensor:
        """``shape`` float32 draws in [0, 1)."""
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed)
        return torch.rand(*shape, generator=self._generator).to(device)

    def integers(self, low: torch.Tensor, high: torch.Tensor, *shape: int) -> torch.Tensor:
        """int64 draws uniform in ``[low, high]`` (inclusive; ``low``/``high`` broadcast against ``shape``)."""
        span = (high - low + 1).clamp_min(1)
        return low + (self.uniform(*shape, device=span.device) * span).long().clamp_max(span - 1)

    def __getstate__(self) -> dict:  # generators do not pickle; a copy restarts from the seed
        return {"seed": self.seed, "_generator": None}


def sorted_distinct(sampler: Sampler, lengths: torch.Tensor, count: int, per_video: int) -> torch.Tensor:
    """``(B, per_video, count)`` strictly increasing frame indices in ``[0, lengths[b])``.

    Drawn as ``sort(u) + (0, 1, ..., count-1)`` with ``u`` uniform integers in ``[0, length - count]``.
    """
    top = (lengths - count)[:, None, None]
    draws = sampler.integers(torch.zeros_like(top), top, len(lengths), per_video, count)
    return draws.sort(-1).values + torch.arange(count, device=lengths.device)
