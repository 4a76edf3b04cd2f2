"""The embedding network of TCC and GTA (docs/method.md Sec. 5).

Every output step is embedded from its frame and `k` context frames before it (C = k + 1 frames, oldest first):
trunk conv4 maps of the C frames, stacked in time -> 3D convs (kernel 3, BN, ReLU) -> global 3D max pooling ->
FC layers (ReLU, dropout) -> linear to D -> L2 normalisation.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gtalign.errors import GtalignError, describe
from gtalign.models.regimes import apply_regime, check_regime
from gtalign.models.temporal import build_temporal
from gtalign.models.trunks import build_trunk, check_frames, run_channels_last


class ContextEmbedder(nn.Module):
    """3D conv embedder over the conv4 maps of C context frames.

    Input (N, C, F, h, w) -> output (N, D), L2-normalised.
    """

    def __init__(self, in_channels: int, conv_channels: int = 512, num_conv: int = 2, fc_channels: int = 512,
                 num_fc: int = 2, dropout: float = 0.1, embedding_dim: int = 128):
        super().__init__()
        convs: list[nn.Module] = []
        for i in range(num_conv):
            convs += [nn.Conv3d(in_channels if i == 0 else conv_channels, conv_channels, 3, padding=1, bias=False),
                      nn.BatchNorm3d(conv_channels), nn.ReLU(inplace=True)]
        # channels-last 3D: the two convolutions' forward + backward took 51 -> 41 ms a training step of the demo
        # (80 clips of 3 x 7 x 7 maps, 96 -> 32 channels, one thread); values equal to float rounding
        self.convs = nn.Sequential(*convs).to(memory_format=torch.channels_last_3d)
        fcs: list[nn.Module] = []
        width = conv_channels if num_conv else in_channels
        for _ in range(num_fc):
            fcs += [nn.Linear(width, fc_channels), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = fc_channels
        self.fcs = nn.Sequential(*fcs)
        self.projection = nn.Linear(width, embedding_dim)

    def conv_maps(self, feats: torch.Tensor) -> torch.Tensor:
        """The last 3D conv's maps: (N, C, F, h, w) -> (N, K, C, h, w), K = conv channels."""
        return self.convs(feats.transpose(1, 2).contiguous(memory_format=torch.channels_last_3d))

    def embed_maps(self, maps: torch.Tensor) -> torch.Tensor:
        """Max-pool conv maps (N, K, C, h, w) and project to L2-normalised embeddings (N, D)."""
        pooled = torch.amax(maps, dim=(2, 3, 4))
        return F.normalize(self.projection(self.fcs(pooled)), dim=-1)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.embed_maps(self.conv_maps(feats))


class Embedder(nn.Module):
    """Frames (B, T, C, 3, H, W) -> L2-normalised frame embeddings (B, T, D).

    `trunk_features` and `embed_features` split the network so that a frozen trunk's features can be cached.
    With `temporal_head="transformer"` a temporal transformer (`gtalign.models.temporal`) follows the per-frame
    embeddings, so a frame's embedding depends on the whole sequence it is embedded with: `embed_features(...,
    sequence=False)` gives the per-frame part (for chunked embedding), `sequence(embs, lengths)` the rest.
    `config` holds the constructor arguments (checkpoints rebuild the network from it).
    """

    def __init__(self, trunk: str = "resnet50", weights: str | Path | None = None, regime: str = "train_all",
                 embedding_dim: int = 128, conv_channels: int = 512, num_conv: int = 2, fc_channels: int = 512,
                 num_fc: int = 2, dropout: float = 0.1, temporal_head: str = "none", temporal_positions: int = 20):
        super().__init__()
        check_regime(regime, weights)
        self.config: dict[str, Any] = dict(trunk=trunk, weights=None if weights is None else str(weights),
                                           regime=regime, embedding_dim=embedding_dim, conv_channels=conv_channels,
                                           num_conv=num_conv, fc_channels=fc_channels, num_fc=num_fc, dropout=dropout,
                                           temporal_head=temporal_head, temporal_positions=temporal_positions)
        self.regime = regime
        self.trunk, self.feature_channels = build_trunk(trunk, weights)
        apply_regime(self.trunk, regime)
        # A frozen trunk runs channels-last: MobileNetV2's conv4 trunk was 2x faster on CPU (18 -> 9 ms a 160 px
        # frame, one thread), equal to float rounding (5e-6); the weights' values, digests and state_dicts are
        # unchanged. A trunk that trains keeps the default layout (its BatchNorm sums in another order otherwise).
        if self.trunk_frozen:
            self.trunk.to(memory_format=torch.channels_last)
        self.head = ContextEmbedder(self.feature_channels, conv_channels, num_conv, fc_channels, num_fc, dropout,
                                    embedding_dim)
        self.temporal = build_temporal(temporal_head, embedding_dim, temporal_positions)
        self.embedding_dim = embedding_dim

    @classmethod
    def from_config(cls, model: Any, weights: str | Path | None = None, positions: int = 20) -> "Embedder":
        """The embedder a `ModelConfig` describes (`gtalign.train.config`), with trunk `weights` (a checkpoint
        being loaded passes None: it holds every weight) and `positions` (the training clip's steps, for a
        temporal head)."""
        return cls(model.trunk, weights, model.regime, model.embedding_dim, model.conv_channels, model.num_conv,
                   model.fc_channels, model.num_fc, model.dropout, model.temporal_head, positions)

    def sequence(self, embs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The temporal head over whole sequences of per-frame embeddings (B, T, D) (identity without one)."""
        return embs if self.temporal is None else self.temporal(embs, lengths)

    @property
    def trunk_frozen(self) -> bool:
        return self.regime == "frozen"

    def train(self, mode: bool = True) -> "Embedder":
        super().train(mode)
        if self.trunk_frozen:
            self.trunk.eval()  # a frozen trunk keeps its BatchNorm statistics
        return self

    def trunk_features(self, frames: torch.Tensor) -> torch.Tensor:
        """Conv4 maps of single frames: (N, 3, H, W) -> (N, F, h, w)."""
        check_frames(frames)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.trunk_frozen):
            if not self.trunk_frozen:
                return self.trunk(frames)
            return run_channels_last(self.trunk, frames)

    def embed_features(self, feats: torch.Tensor, return_maps: bool = False, lengths: torch.Tensor | None = None,
                       sequence: bool = True) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Embeddings from trunk maps: (B, T, C, F, h, w) -> (B, T, D), valid `lengths` (B,) (for a temporal head;
        default all T); `sequence=False` leaves the temporal head out.

        With `return_maps`, also the last conv layer's maps (B, T, K, C, h, w) (for CAM).
        """
        if feats.dim() != 6 or feats.shape[3] != self.feature_channels:
            raise GtalignError(f"feats must have shape (B, T, C, {self.feature_channels}, h, w), got {describe(feats)}")
        b, t = feats.shape[:2]
        maps = self.head.conv_maps(feats.flatten(0, 1).to(self.head.projection.weight.dtype))
        embs = self.head.embed_maps(maps).unflatten(0, (b, t))
        if sequence:
            embs = self.sequence(embs, lengths)
        return (embs, maps.unflatten(0, (b, t))) if return_maps else embs

    def forward(self, frames: torch.Tensor, return_maps: bool = False, lengths: torch.Tensor | None = None,
                sequence: bool = True) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Frames (B, T, C, 3, H, W) -> embeddings (B, T, D) (and conv maps (B, T, K, C, h, w) with `return_maps`);
        `lengths` and `sequence` as in `embed_features`."""
        if frames.dim() != 6 or frames.shape[3] != 3:
            raise GtalignError(f"frames must have shape (B, T, C, 3, H, W), got {describe(frames)}")
        feats = self.trunk_features(frames.flatten(0, 2))
        return self.embed_features(feats.unflatten(0, frames.shape[:3]), return_maps, lengths, sequence)
