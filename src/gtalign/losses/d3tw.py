"""D3TW*: the discriminative differentiable DTW of Chang et al. (CVPR 2019) adapted to pairs of videos, as the
GTA supplement (Sec. 2) defines it."""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, gather_frames
from gtalign.losses.pairs import Pairing, Pairs, check_pairing, gather_pairs
from gtalign.losses.registry import register
from gtalign.losses.sampling import Sampler
from gtalign.ops import contrastive_cost, cosine_cost, smooth_dtw, sqeuclidean_cost
from gtalign.ops.smoothmin import check_gamma
from gtalign.registry import check_choice, choices

D3TWForm = Literal["softmax", "hinge"]
FORMS: tuple[str, ...] = choices(D3TWForm)
D3TWCost = Literal["contrastive", "sqeuclidean", "cosine"]
COSTS: tuple[str, ...] = choices(D3TWCost)


def drop_portion(sampler: Sampler, y: torch.Tensor, len_y: torch.Tensor, count: int,
                 fraction: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` negatives per video: each drops one random contiguous portion of the video.

    The portion has ``w = round(f * len)`` frames, ``f`` uniform in ``fraction``, clamped to ``1..len-1``,
    starting uniformly in ``[0, len - w]``; the frames after it move up.

    Args:
        y: ``(P, T, D)`` videos, ``len_y``: ``(P,)`` valid lengths (>= 2).
    Returns:
        ``(negatives (P * count, T, D), lengths (P * count,))``, pair-major.
    """
    frames = y.shape[1]
    low, high = fraction
    length = len_y[:, None].expand(-1, count)
    width = (low + (high - low) * sampler.uniform(len(y), count, device=y.device)) * length
    width = width.round().long().clamp(min=1).minimum(length - 1)
    start = sampler.integers(torch.zeros_like(length), length - width, len(y), count)
    t = torch.arange(frames, device=y.device)
    index = (t + width[..., None] * (t >= start[..., None])).clamp_max(frames - 1)     # (P, count, T)
    negatives = gather_frames(y, index)                                                # (P, count, T, D)
    return negatives.reshape(-1, frames, y.shape[-1]), (length - width).reshape(-1)


@register("d3tw")
class D3TWLoss(FrameLoss):
    r"""D3TW* (GTA supplement Sec. 2, after Chang, Huang, Sui, Fei-Fei, Niebles, "D3TW", CVPR 2019).

    For each pair (X, Y) (``pairing`` as in GTA) the positive score is the min^gamma DTW score over the whole
    of both videos, ``d+ = R_gamma(C(X, Y))[N, M]``; ``num_negatives`` negative scores ``d-_k`` align X with Y
    after dropping a random contiguous portion of Y (a fraction in ``drop_fraction`` of its frames), which
    mimics D3TW's negative transcripts with dropped actions. ``C`` is the contrastive cost of GTA
    (``gamma_f``) by default, or ``"sqeuclidean"`` / ``"cosine"``.

    ``form="softmax"`` (default): ``L = -log( exp(-d+) / (exp(-d+) + sum_k exp(-d-_k)) )``, the positive
    alignment must be the most likely among {positive, negatives};
    ``form="hinge"``: ``L = mean_k max(0, margin + d+ - d-_k)``. Mean over pairs.
    Input ``embs (B, T, D)``, ``lengths (B,)``; needs ``B >= 2``.
    """

    min_videos = 2

    def __init__(self, gamma: float = 0.1, gamma_f: float = 0.1, cost: str = "contrastive",
                 pairing: Pairing = "anchor", num_negatives: int = 4, drop_fraction: tuple[float, float] = (0.25, 0.5),
                 form: str = "softmax", margin: float = 1.0, seed: int | None = None, backend: str = "auto"):
        super().__init__()
        self.gamma = check_gamma(gamma)
        self.gamma_f = check_gamma(gamma_f)
        check_choice("cost", cost, COSTS)
        check_choice("form", form, FORMS)
        if not isinstance(num_negatives, int) or num_negatives < 1:
            raise GtalignError(f"num_negatives must be an int >= 1, got {num_negatives!r}")
        low, high = (float(v) for v in drop_fraction)
        if not 0 < low <= high < 1:
            raise GtalignError(f"drop_fraction must be (low, high) with 0 < low <= high < 1, got {drop_fraction!r}")
        self.cost, self.form, self.pairing = cost, form, check_pairing(pairing)
        self.num_negatives, self.drop_fraction, self.margin = num_negatives, (low, high), float(margin)
        self.sampler = Sampler(seed)
        self.backend = backend

    def _scores(self, pairs: Pairs) -> torch.Tensor:
        if self.cost == "contrastive":
            cost = contrastive_cost(pairs.x, pairs.y, self.gamma_f, lengths=pairs.len_x, validate=False)
        else:
            cost = (sqeuclidean_cost if self.cost == "sqeuclidean" else cosine_cost)(pairs.x, pairs.y, validate=False)
        return smooth_dtw(cost, self.gamma, "min_gamma", lengths=(pairs.len_x, pairs.len_y), backend=self.backend,
                          validate=False)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pairs = gather_pairs(embs, lengths, self.pairing)
        count, k = len(pairs.x), self.num_negatives
        y_neg, len_neg = drop_portion(self.sampler, pairs.y, pairs.len_y, k, self.drop_fraction)
        negatives = Pairs(pairs.x.repeat_interleave(k, 0), y_neg, pairs.len_x.repeat_interleave(k), len_neg)
        scores = self._scores(pairs.joined(negatives))
        positive, negative = scores[:count], scores[count:].reshape(count, k)
        if self.form == "hinge":
            return F.relu(self.margin + positive[:, None] - negative).mean()
        logits = -torch.cat([positive[:, None], negative], 1)
        return F.cross_entropy(logits, torch.zeros(count, dtype=torch.long, device=embs.device))
