"""The forward pass of one training step: this process's clips -> embeddings -> the global batch -> the loss."""
from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from gtalign.models import Embedder
from gtalign.train.distributed import gather_batch


def loss_inputs(loss: nn.Module) -> frozenset[str]:
    """Names of batch entries the loss takes besides the embeddings (its `needs` and `uses`)."""
    return frozenset(getattr(loss, "needs", ())) | frozenset(getattr(loss, "uses", ()))


class EmbedAndLoss(nn.Module):
    """`forward(batch) -> scalar loss` of the global batch; `batch` holds `frames` (B, T, C, 3, H, W) or cached
    trunk `features` (B, T, C, F, h, w), `lengths` (B,) and whatever else the loss takes (e.g. `steps` (B, T)).

    The loss is computed in float32 outside autocast (the DTW recursions need the precision). Non-finite
    embeddings give a NaN loss (the trainer reports it) instead of reaching the loss.
    """

    def __init__(self, embedder: Embedder, loss: nn.Module):
        super().__init__()
        self.embedder = embedder
        self.loss = loss
        self.inputs = loss_inputs(loss)

    def embed(self, batch: dict[str, Any]) -> torch.Tensor:
        """This process's embeddings (b, T, D)."""
        lengths = batch.get("lengths")
        if "features" in batch:
            return cast(torch.Tensor, self.embedder.embed_features(batch["features"], lengths=lengths))  # no maps
        return self.embedder(batch["frames"], lengths=lengths)

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        embs = gather_batch(self.embed(batch).float())
        if not bool(torch.isfinite(embs).all()):
            return torch.full((), float("nan"), device=embs.device)
        extra = {name: gather_batch(batch[name]) for name in sorted(self.inputs) if name in batch}
        lengths = gather_batch(batch["lengths"]) if "lengths" in batch else None
        with torch.autocast(embs.device.type, enabled=False):
            return self.loss(embs, lengths=lengths, **extra)
