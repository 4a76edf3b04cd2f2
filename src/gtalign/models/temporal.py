"""A temporal transformer over a clip's frame embeddings, after CARL's (Chen et al., CVPR 2022).

Each frame's embedding from the context embedder is mapped to ``hidden`` channels, given a sine/cosine position,
passed through pre-norm transformer encoder layers that let every frame attend to every valid frame of its clip,
and mapped back to ``D`` channels, L2-normalised. CARL's settings are the defaults: 256 channels, 3 layers,
8 heads, feed-forward 1024, dropout 0.1. Positions follow CARL too: a sequence of any length spans the positions
0..``positions - 1`` of a training clip (``positions`` = its number of steps), so a whole video at evaluation is
seen on the same scale as the clips it was trained on.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gtalign.errors import GtalignError, describe
from gtalign.registry import check_choice, choices


def sincos_encoding(positions: torch.Tensor, channels: int) -> torch.Tensor:
    """Sine/cosine encodings of real-valued positions ``(B, T)`` -> ``(B, T, channels)``: channel ``2k`` is
    ``sin(p / 10000^(2k / channels))``, channel ``2k + 1`` its cosine."""
    even = torch.arange(0, channels, 2, dtype=positions.dtype, device=positions.device)
    angle = positions[..., None] / torch.pow(10000.0, even / channels)
    out = torch.zeros(*positions.shape, channels, dtype=positions.dtype, device=positions.device)
    out[..., 0::2] = torch.sin(angle)
    out[..., 1::2] = torch.cos(angle[..., : channels // 2])
    return out


class TemporalTransformer(nn.Module):
    """``embs (B, T, D)``, valid ``lengths (B,)`` -> ``(B, T, D)`` L2-normalised (module docstring); padded frames
    (``t >= lengths[b]``) are never attended to and do not change the valid frames' outputs."""

    def __init__(self, dim: int, hidden: int = 256, layers: int = 3, heads: int = 8, feedforward: int = 1024,
                 dropout: float = 0.1, positions: int = 20):
        super().__init__()
        if hidden % heads or hidden % 2:
            raise GtalignError(f"hidden ({hidden}) must be even and a multiple of heads ({heads})")
        if positions < 1:
            raise GtalignError(f"positions must be >= 1 (the training clip's steps), got {positions}")
        self.hidden, self.positions = hidden, positions
        self.inp = nn.Linear(dim, hidden)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(hidden, heads, feedforward, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(hidden, dim)

    def forward(self, embs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if embs.dim() != 3 or embs.shape[-1] != self.inp.in_features:
            raise GtalignError(f"embs must have shape (B, T, {self.inp.in_features}), got {describe(embs)}")
        b, t, _ = embs.shape
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long, device=embs.device)
        lengths = torch.as_tensor(lengths, device=embs.device).long()
        steps = torch.arange(t, device=embs.device, dtype=embs.dtype)
        scale = (self.positions - 1) / (lengths - 1).clamp_min(1).to(embs.dtype)
        position = steps[None, :] * scale[:, None]
        x = self.dropout(self.inp(embs) + sincos_encoding(position, self.hidden))
        padded = steps[None, :] >= lengths[:, None]
        x = self.encoder(x, src_key_padding_mask=padded)
        return F.normalize(self.out(x), dim=-1)


TemporalHead = Literal["none", "transformer"]
TEMPORAL_HEADS: tuple[str, ...] = choices(TemporalHead)


def build_temporal(name: str, dim: int, positions: int) -> TemporalTransformer | None:
    """The temporal head named ``name`` (``"none"``: no head) for ``dim``-D embeddings."""
    check_choice("temporal_head", name, TEMPORAL_HEADS)
    return None if name == "none" else TemporalTransformer(dim, positions=positions)


