"""Small learnable heads of the self-supervised baselines; they are submodules of their loss, so
``loss.parameters()`` hands them to the optimizer."""
from __future__ import annotations

import torch
from torch import nn

from gtalign.errors import GtalignError


def check_dim(loss: str, expected: int, embs: torch.Tensor) -> None:
    """Raise GtalignError unless the embedding size of ``embs (..., D)`` is the head's ``dim``."""
    if embs.shape[-1] != expected:
        raise GtalignError(f"loss {loss!r} was built with dim={expected} but embs have D={embs.shape[-1]} "
                           f"(shape {tuple(embs.shape)}); pass dim=D to create()")


class TupleHead(nn.Module):
    """Shuffle & Learn's order classifier: concatenated frame embeddings ``(..., K, D)`` -> logit ``(...)``."""

    def __init__(self, dim: int, frames: int = 3, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(frames * dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, tuples: torch.Tensor) -> torch.Tensor:
        return self.net(tuples.flatten(-2)).squeeze(-1)


class ClipHead(nn.Module):
    """SpeedNet-style clip classifier: temporal conv over the frame embeddings of a clip, global max pooling
    over time, linear: ``(N, L, D)`` -> logit ``(N,)``."""

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(dim, hidden, kernel_size=3, padding=1), nn.ReLU())
        self.out = nn.Linear(hidden, 1)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        features = self.conv(clips.transpose(1, 2)).amax(-1)
        return self.out(features).squeeze(-1)
