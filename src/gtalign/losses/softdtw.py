"""soft-DTW between pairs of videos (Cuturi & Blondel, ICML 2017), optionally the soft-DTW divergence."""
from __future__ import annotations

import torch

from gtalign.losses.base import FrameLoss
from gtalign.losses.pairs import Pairing, check_pairing, gather_pairs
from gtalign.losses.registry import register
from gtalign.ops import smooth_dtw, soft_dtw_divergence, sqeuclidean_cost
from gtalign.ops.smoothmin import check_gamma


@register("softdtw")
class SoftDTWLoss(FrameLoss):
    r"""soft-DTW loss (Cuturi & Blondel, "Soft-DTW: a differentiable loss function for time-series", ICML 2017).

    For each pair (X, Y) (``pairing`` as in GTA): cost ``C[i, j] = |x_i - y_j|^2`` and
    ``R[i, j] = C[i-1, j-1] + min^gamma(R[i, j-1], R[i-1, j-1], R[i-1, j])``,
    ``min^gamma(a) = -gamma log sum_k exp(-a_k / gamma)``; ``sdtw(X, Y) = R[N, M]``.

    ``L = mean over pairs of sdtw(X, Y)``, or with ``divergence=True`` the soft-DTW divergence
    (Blondel, Mensch, Vert, AISTATS 2021) ``sdtw(X, Y) - (sdtw(X, X) + sdtw(Y, Y)) / 2``.
    Input ``embs (B, T, D)``, ``lengths (B,)``; needs ``B >= 2``.
    """

    min_videos = 2

    def __init__(self, gamma: float = 0.1, pairing: Pairing = "anchor", divergence: bool = False,
                 backend: str = "auto"):
        super().__init__()
        self.gamma = check_gamma(gamma)
        self.pairing = check_pairing(pairing)
        self.divergence = bool(divergence)
        self.backend = backend

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pairs = gather_pairs(embs, lengths, self.pairing)
        if self.divergence:
            return soft_dtw_divergence(pairs.x, pairs.y, self.gamma, (pairs.len_x, pairs.len_y), self.backend,
                                       validate=False).mean()
        cost = sqeuclidean_cost(pairs.x, pairs.y, validate=False)
        return smooth_dtw(cost, self.gamma, "min_gamma", lengths=(pairs.len_x, pairs.len_y),
                          backend=self.backend, validate=False).mean()
