"""Which ordered pairs of videos of a batch a pairwise loss compares.

- ``"anchor"``: the published GTA code: video 0 with each other video, ``(0, j)`` for ``j = 1..B-1``.
- ``"all"``: every ordered pair ``(i, j)``, ``i != j`` (as TCC), i-major order.
"""
from __future__ import annotations

from typing import Literal, NamedTuple

import torch

from gtalign.registry import check_choice, choices

Pairing = Literal["anchor", "all"]
PAIRINGS: tuple[str, ...] = choices(Pairing)


def check_pairing(pairing: str) -> str:
    """Return ``pairing`` or raise GtalignError unless it is one of PAIRINGS."""
    check_choice("pairing", pairing, PAIRINGS)
    return pairing


def pair_indices(batch: int, pairing: str, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(first (P,), second (P,))`` int64 video indices of the pairs of a batch of ``batch`` videos."""
    check_pairing(pairing)
    if pairing == "anchor":
        second = torch.arange(1, batch, device=device)
        return torch.zeros_like(second), second
    first, second = torch.meshgrid(torch.arange(batch, device=device), torch.arange(batch, device=device),
                                   indexing="ij")
    keep = first != second
    return first[keep], second[keep]


class Pairs(NamedTuple):
    """The two sides of P pairs: ``x (P, T, D)``, ``y (P, T, D)`` and their valid lengths ``(P,)``."""

    x: torch.Tensor
    y: torch.Tensor
    len_x: torch.Tensor
    len_y: torch.Tensor

    def swapped(self) -> "Pairs":
        """The same pairs in the other direction."""
        return Pairs(self.y, self.x, self.len_y, self.len_x)

    def joined(self, other: "Pairs") -> "Pairs":
        """Both sets of pairs stacked along the pair dimension (one batched call instead of two)."""
        return Pairs(*(torch.cat([a, b]) for a, b in zip(self, other)))


def gather_pairs(embs: torch.Tensor, lengths: torch.Tensor, pairing: str) -> Pairs:
    """The pairs of ``embs (B, T, D)`` with ``lengths (B,)`` named by ``pairing``."""
    first, second = pair_indices(embs.shape[0], pairing, embs.device)
    return Pairs(embs[first], embs[second], lengths[first], lengths[second])
