"""Shuffle & Learn: temporal order verification of frame triplets (Misra, Zitnick, Hebert, ECCV 2016)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, gather_frames
from gtalign.losses.heads import TupleHead, check_dim
from gtalign.losses.registry import register
from gtalign.losses.sampling import Sampler, sorted_distinct


@register("sal")
class ShuffleLearnLoss(FrameLoss):
    r"""Shuffle & Learn (Misra, Zitnick, Hebert, "Shuffle and Learn: Unsupervised Learning using Temporal Order
    Verification", ECCV 2016).

    Per video, ``tuples_per_video`` times: five frames ``a < b < c < d < e`` are drawn; the positive (ordered)
    triplet is ``(b, c, d)``, the negative (shuffled) one ``(b, a, d)`` or ``(b, e, d)`` (the middle frame from
    outside the interval, as in the paper). A head (``TupleHead``: MLP over the concatenated three embeddings)
    gives a logit ``h``; ``L = -mean[y log sigmoid(h) + (1 - y) log(1 - sigmoid(h))]`` over all triplets,
    ``y = 1`` for ordered ones (half of them) and 0 for shuffled ones.

    The head is learnable (``loss.parameters()``); ``dim`` must equal the embedding size D. Needs T >= 5.
    """

    min_frames = 5

    def __init__(self, dim: int = 128, hidden: int = 128, tuples_per_video: int = 8, seed: int | None = None):
        super().__init__()
        if not isinstance(tuples_per_video, int) or tuples_per_video < 1:
            raise GtalignError(f"tuples_per_video must be an int >= 1, got {tuples_per_video!r}")
        self.dim, self.tuples_per_video = dim, tuples_per_video
        self.head = TupleHead(dim, frames=3, hidden=hidden)
        self.sampler = Sampler(seed)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        check_dim(self.name, self.dim, embs)
        batch, k = embs.shape[0], self.tuples_per_video
        a, b, c, d, e = sorted_distinct(self.sampler, lengths, 5, k).unbind(-1)          # each (B, k)
        outside = torch.where(self.sampler.uniform(batch, k, device=embs.device) < 0.5, a, e)
        tuples = torch.cat([torch.stack([b, c, d], -1), torch.stack([b, outside, d], -1)], 1)   # (B, 2k, 3)
        logits = self.head(gather_frames(embs, tuples))                                    # (B, 2k)
        labels = torch.cat([torch.ones(batch, k), torch.zeros(batch, k)], 1).to(logits)
        return F.binary_cross_entropy_with_logits(logits, labels)
