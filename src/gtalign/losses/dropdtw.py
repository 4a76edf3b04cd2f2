"""Drop-DTW as a training loss between pairs of videos (Dvornik et al., NeurIPS 2021)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, frame_mask
from gtalign.losses.crossentropy import masked_log_softmax
from gtalign.losses.pairs import Pairing, check_pairing, gather_pairs
from gtalign.losses.registry import register
from gtalign.ops.drop_dtw import drop_dtw
from gtalign.ops.smoothmin import Relaxation, check_gamma, check_relaxation


def drop_costs(x: torch.Tensor, y: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor, keep: float,
               temperature: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Match and drop costs of pairs, as Drop-DTW's "logit" drop cost defines them, for both sides.

    ``S = x y^T`` (L2-normalised embeddings), ``b`` its ``keep``-quantile from the top over the valid cells
    (the k-th largest similarity, ``k = max(1, floor(keep * N M))``, not differentiated). Each frame ``x_i``
    chooses among the frames of y and a "drop" option of similarity ``b``:
    ``p_i = softmax([S_i1 .. S_iM, b] / temperature)``; likewise each ``y_j`` over the frames of x. Match cost
    ``C_ij = -(log p_ij + log p'_ji) / 2``, drop costs ``-log p_i,drop`` and ``-log p'_j,drop``.

    Shapes: ``x (P, N, D)``, ``y (P, M, D)``, lengths ``(P,)`` -> ``C (P, N, M)``, ``drop_x (P, N)``,
    ``drop_y (P, M)`` (0 on padded frames).
    """
    sim = x @ y.transpose(-1, -2)
    mx, my = frame_mask(len_x, x.shape[1]), frame_mask(len_y, y.shape[1])
    valid = mx[:, :, None] & my[:, None, :]
    count = (len_x * len_y).to(torch.float64)
    k = torch.clamp((keep * count).floor().long(), min=1)
    ranked = sim.detach().masked_fill(~valid, float("-inf")).flatten(1).sort(-1, descending=True).values
    baseline = ranked.gather(1, (k - 1)[:, None]).squeeze(1)                       # (P,)
    drop_col = baseline[:, None, None].expand(-1, x.shape[1], 1)
    rows = torch.cat([sim, drop_col], 2) / temperature                             # (P, N, M+1)
    row_valid = torch.cat([valid, mx[:, :, None]], 2)
    log_rows = masked_log_softmax(rows, row_valid, -1)
    drop_row = baseline[:, None, None].expand(-1, 1, y.shape[1])
    cols = torch.cat([sim, drop_row], 1) / temperature                             # (P, N+1, M)
    col_valid = torch.cat([valid, my[:, None, :]], 1)
    log_cols = masked_log_softmax(cols, col_valid, -2)
    match = -(log_rows[:, :, :-1] + log_cols[:, :-1, :]) / 2
    match = torch.where(valid, match, torch.zeros_like(match))
    drop_x = torch.where(mx, -log_rows[:, :, -1], torch.zeros_like(log_rows[:, :, -1]))
    drop_y = torch.where(my, -log_cols[:, -1, :], torch.zeros_like(log_cols[:, -1, :]))
    return match, drop_x, drop_y


@register("dropdtw")
class DropDTWLoss(FrameLoss):
    r"""Drop-DTW loss (Dvornik, Hadji, Derpanis, Garg, Jepson, "Drop-DTW: Aligning Common Signal Between Sequences
    While Dropping Outliers", NeurIPS 2021), with the published settings for L2-normalised embeddings
    (``gamma_xz = gamma_min = 0.1``, smooth minimum ``"prob"`` = smoothMin, drop cost from a similarity quantile).

    For each pair (X, Y) (``pairing`` as in GTA): match and drop costs from :func:`drop_costs` (``keep``: the
    fraction of cells whose similarity beats the drop option), then the smooth Drop-DTW score of
    :func:`gtalign.ops.drop_dtw.drop_dtw` with drops allowed in both videos; ``L = mean over pairs``.
    """

    min_videos = 2

    def __init__(self, keep: float = 0.3, temperature: float = 0.1, gamma: float = 0.1,
                 relaxation: Relaxation = "smoothmin", pairing: Pairing = "anchor"):
        super().__init__()
        if not 0 < float(keep) <= 1:
            raise GtalignError(f"keep must lie in (0, 1], got {keep!r}")
        if not float(temperature) > 0:
            raise GtalignError(f"temperature must be > 0, got {temperature!r}")
        self.keep, self.temperature = float(keep), float(temperature)
        self.gamma = check_gamma(gamma)
        self.relaxation = check_relaxation(relaxation)
        self.pairing = check_pairing(pairing)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pairs = gather_pairs(F.normalize(embs, dim=-1), lengths, self.pairing)
        cost, drop_x, drop_y = drop_costs(pairs.x, pairs.y, pairs.len_x, pairs.len_y, self.keep, self.temperature)
        return drop_dtw(cost, drop_x, drop_y, self.gamma, self.relaxation, (pairs.len_x, pairs.len_y),
                        validate=False).mean()
