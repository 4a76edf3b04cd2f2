"""Single-view time-contrastive loss (TCN, Sermanet et al., ICRA 2018)."""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, check_steps, frame_mask
from gtalign.losses.crossentropy import masked_logsumexp
from gtalign.losses.registry import register
from gtalign.registry import check_choice, choices

TCNForm = Literal["npairs", "triplet"]
FORMS: tuple[str, ...] = choices(TCNForm)


@register("tcn")
class TCNLoss(FrameLoss):
    r"""Single-view Time-Contrastive Network loss (Sermanet, Lynch, Chebotar, Hsu, Jang, Schaal, Levine,
    "Time-Contrastive Networks", ICRA 2018).

    Within each video, for an anchor frame a: positives p are the other frames at most ``positive_window``
    source frames away, ``0 < |s_a - s_p| <= positive_window``; negatives n are more than ``negative_margin``
    frames away, ``|s_a - s_n| > negative_margin`` (``s`` = ``steps``, the frame index in the source video).

    - ``form="npairs"`` (default): for every (a, p),
      ``-log( exp(a.p / tau) / (exp(a.p / tau) + sum_n exp(a.n / tau)) )``, ``tau = temperature``;
    - ``form="triplet"``: for every (a, p, n), ``max(0, |a - p|^2 - |a - n|^2 + margin)``.

    ``L = mean`` over all tuples of all videos; 0 (still connected to the graph) when the batch holds none.
    Needs extra ``steps (B, T)``.
    """

    needs = frozenset({"steps"})

    def __init__(self, positive_window: int = 15, negative_margin: int = 30, form: str = "npairs",
                 temperature: float = 0.1, margin: float = 0.2):
        super().__init__()
        check_choice("form", form, FORMS)
        if not 0 < positive_window <= negative_margin:
            raise GtalignError(f"need 0 < positive_window <= negative_margin, got {positive_window} and "
                               f"{negative_margin}")
        if not float(temperature) > 0:
            raise GtalignError(f"temperature must be > 0, got {temperature!r}")
        self.positive_window, self.negative_margin = positive_window, negative_margin
        self.form, self.temperature, self.margin = form, float(temperature), float(margin)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor, steps) -> torch.Tensor:
        steps = check_steps(steps, embs)
        mask = frame_mask(lengths, embs.shape[1])
        valid = mask[:, :, None] & mask[:, None, :]
        gap = (steps[:, :, None] - steps[:, None, :]).abs()
        eye = torch.eye(embs.shape[1], dtype=torch.bool, device=embs.device)
        positive = valid & (gap <= self.positive_window) & ~eye           # (B, a, p)
        negative = valid & (gap > self.negative_margin)                   # (B, a, n)
        if self.form == "triplet":
            dist = (embs[:, :, None, :] - embs[:, None, :, :]).pow(2).sum(-1)
            tuples = positive[..., None] & negative[:, :, None, :]          # (B, a, p, n)
            losses = F.relu(dist[..., None] - dist[:, :, None, :] + self.margin)[tuples]
        else:
            sim = embs @ embs.transpose(-1, -2) / self.temperature
            negatives = masked_logsumexp(sim, negative)                                  # (B, a), -inf if none
            tuples = positive & negative.any(-1)[..., None]
            losses = F.softplus(negatives[..., None] - sim)[tuples]
        return losses.mean() if losses.numel() else embs.sum() * 0.0
