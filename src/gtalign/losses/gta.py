"""GTA: global temporal alignment with smoothDTW and global cycle-consistency (Hadji et al., CVPR 2021)."""
from __future__ import annotations

import torch

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss
from gtalign.losses.cycle import check_cycle_logits, cycle_loss_rows
from gtalign.losses.pairs import Pairing, Pairs, check_pairing, gather_pairs
from gtalign.losses.registry import register
from gtalign.ops import contrastive_cost, smooth_dtw, smooth_dtw_table
from gtalign.ops.smoothmin import Relaxation, check_gamma, check_relaxation


def _scores(table: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """``R[len_x, len_y]`` of each table ``(P, N+1, M+1)`` -> ``(P,)``."""
    return table[torch.arange(len(table), device=table.device), pairs.len_x, pairs.len_y]


@register("gta")
class GTALoss(FrameLoss):
    r"""GTA loss: smoothDTW alignment + global cycle-consistency (Hadji, Derpanis, Jepson, CVPR 2021, Sec. 3;
    docs/method.md Sec. 4, as the published code computes it).

    For each pair (X, Y) of the batch (``pairing="anchor"``: video 0 with every other video, as published;
    ``"all"``: every ordered pair):

    - contrastive cost ``C_xy[i, j] = -log softmax_i(x_i . y_j / gamma_f)`` (embeddings L2-normalised);
    - smoothDTW table ``R_xy[i, j] = C_xy[i-1, j-1] + softmin_{gamma_s}(R[i, j-1], R[i-1, j-1], R[i-1, j])``,
      and likewise ``R_yx`` from ``C_yx``;
    - ``A_xy = softmax_rows(-R_xy[1:, 1:])``, ``P = (A_xy A_yx)^T``, cycle loss
      ``CE(P, (1 - s) I + s / N)`` with label smoothing ``s = 0.1`` over all rows of all pairs
      (``cycle_logits="published"`` treats P as logits, as the published code; ``"normalized"`` uses -log P).

    ``L = CE + w * mean R_xy[N, M] + w * mean R_yx[M, N]`` with ``w = 0.1``; with ``cycle=False`` the
    alignment-only "D2TW" loss ``L = mean R_xy[N, M]``.

    Input ``embs (B, T, D)``, ``lengths (B,)``; needs ``B >= 2``.
    """

    min_videos = 2

    def __init__(self, gamma_f: float = 0.1, gamma_s: float = 0.1, relaxation: Relaxation = "smoothmin",
                 pairing: Pairing = "anchor", cycle: bool = True, cycle_logits: str = "published",
                 label_smoothing: float = 0.1, alignment_weight: float = 0.1, backend: str = "auto"):
        super().__init__()
        self.gamma_f = check_gamma(gamma_f)
        self.gamma_s = check_gamma(gamma_s)
        self.relaxation = check_relaxation(relaxation)
        self.pairing = check_pairing(pairing)
        self.cycle = bool(cycle)
        self.cycle_logits = check_cycle_logits(cycle_logits)
        if not 0 <= float(label_smoothing) < 1:
            raise GtalignError(f"label_smoothing must lie in [0, 1), got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.alignment_weight = float(alignment_weight)
        self.backend = backend

    def _dtw(self, pairs: Pairs, whole_table: bool) -> torch.Tensor:
        """smoothDTW of the contrastive costs: ``(P,)`` scores, or ``(P, T+1, T+1)`` tables."""
        cost = contrastive_cost(pairs.x, pairs.y, self.gamma_f, lengths=pairs.len_x, validate=False)
        dtw = smooth_dtw_table if whole_table else smooth_dtw
        return dtw(cost, self.gamma_s, self.relaxation, lengths=(pairs.len_x, pairs.len_y), backend=self.backend,
                   validate=False)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pairs = gather_pairs(embs, lengths, self.pairing)
        if not self.cycle:
            return self._dtw(pairs, whole_table=False).mean()
        count = len(pairs.x)
        both = pairs.joined(pairs.swapped())              # one DTW call for X->Y and Y->X
        tables = self._dtw(both, whole_table=True)        # (2P, T+1, T+1)
        scores = _scores(tables, both)
        rows, valid = cycle_loss_rows(tables[:count, 1:, 1:], tables[count:, 1:, 1:], pairs.len_x, pairs.len_y,
                                      self.cycle_logits, self.label_smoothing)
        cycle = rows[valid].mean()
        return cycle + self.alignment_weight * (scores[:count].mean() + scores[count:].mean())
