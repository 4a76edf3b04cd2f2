"""LAV: soft-DTW alignment with the contrastive inverse difference moment regulariser (Haresh et al., CVPR 2021)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, check_steps, frame_mask
from gtalign.losses.pairs import Pairing, Pairs, check_pairing, pair_indices
from gtalign.losses.registry import register
from gtalign.ops import smooth_dtw, sqeuclidean_cost
from gtalign.ops.smoothmin import check_gamma


def contrastive_idm(embs: torch.Tensor, steps: torch.Tensor, lengths: torch.Tensor, window: float,
                    margin: float) -> torch.Tensor:
    r"""LAV's contrastive inverse difference moment of each video: ``embs (B, T, D)`` -> ``(B,)``.

    With ``D_ij = |x_i - x_j|^2`` and ``s`` the frames' positions in the source video:
    ``I = sum_ij [|s_i - s_j| > window] W_ij max(0, margin - D_ij) + [|s_i - s_j| <= window] D_ij``,
    ``W_ij = 1 + ((s_i - s_j) / span)^2``, ``span`` the clip's extent in source frames (valid frames only).
    """
    mask = frame_mask(lengths, embs.shape[1])
    valid = mask[:, :, None] & mask[:, None, :]
    dist = sqeuclidean_cost(embs, embs, validate=False)
    s = steps.to(embs.dtype)
    gap = (s[:, :, None] - s[:, None, :]).abs()
    first = s[:, 0]
    last = s.gather(1, (lengths - 1)[:, None]).squeeze(1)
    span = (last - first + 1).clamp_min(1)[:, None, None]
    negative = gap > window
    terms = torch.where(negative, (1 + (gap / span).square()) * F.relu(margin - dist), dist)
    return torch.where(valid, terms, torch.zeros_like(terms)).sum((1, 2))


@register("lav")
class LAVLoss(FrameLoss):
    r"""LAV loss (Haresh, Kumar, Coskun, Syed, Konin, Zia, Tran, "Learning by Aligning Videos in Time", CVPR 2021),
    with the published defaults (``ALPHA 0.5``, ``SIGMA 10``, ``IDM_IDX_MARGIN 2``, soft-DTW gamma 0.1,
    L2-normalised embeddings).

    For each pair (X, Y) (``pairing`` as in GTA): ``sdtw(X, Y)`` the soft-DTW (``min^gamma``) of the squared
    Euclidean costs, ``I`` the contrastive inverse difference moment of each video (:func:`contrastive_idm`), and
    ``L = mean over pairs of (sdtw(X, Y) + alpha (I(X) + I(Y))) / T``, ``T`` the pair's mean length. Needs extra
    ``steps (B, T)`` (frame positions in the source videos, for the IDM window).
    """

    needs = frozenset({"steps"})
    min_videos = 2

    def __init__(self, alpha: float = 0.5, window: float = 10.0, margin: float = 2.0, gamma: float = 0.1,
                 pairing: Pairing = "anchor", backend: str = "auto"):
        super().__init__()
        for name, value in (("alpha", alpha), ("window", window), ("margin", margin)):
            if not float(value) >= 0:
                raise GtalignError(f"{name} must be a number >= 0, got {value!r}")
        self.alpha, self.window, self.margin = float(alpha), float(window), float(margin)
        self.gamma = check_gamma(gamma)
        self.pairing = check_pairing(pairing)
        self.backend = backend

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor, steps) -> torch.Tensor:
        steps = check_steps(steps, embs)
        e = F.normalize(embs, dim=-1)
        first, second = pair_indices(e.shape[0], self.pairing, e.device)
        pairs = Pairs(e[first], e[second], lengths[first], lengths[second])
        sdtw = smooth_dtw(sqeuclidean_cost(pairs.x, pairs.y, validate=False), self.gamma, "min_gamma",
                          lengths=(pairs.len_x, pairs.len_y), backend=self.backend, validate=False)
        idm = contrastive_idm(e, steps, lengths, self.window, self.margin)
        frames = (lengths[first] + lengths[second]).to(e.dtype) / 2
        return ((sdtw + self.alpha * (idm[first] + idm[second])) / frames).mean()

