"""SCL: CARL's sequence contrastive loss between two views of each video (Chen et al., CVPR 2022)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, check_steps, frame_mask
from gtalign.losses.crossentropy import masked_log_softmax
from gtalign.losses.registry import register


def view_pairs(video_index, batch: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(first (P,), second (P,))``: every ordered pair of different clips of one video in the batch."""
    video = torch.as_tensor(video_index, device=device)
    if video.is_floating_point() or tuple(video.shape) != (batch,):
        raise GtalignError(f"video_index must be an integer tensor of shape ({batch},), got shape "
                           f"{tuple(video.shape)} and dtype {video.dtype}")
    same = (video[:, None] == video[None, :]) & ~torch.eye(batch, dtype=torch.bool, device=device)
    first, second = same.nonzero(as_tuple=True)
    return first, second


@register("scl")
class SCLLoss(FrameLoss):
    r"""Sequence contrastive loss of CARL (Chen, Wei, Li, Cai, "Frame-wise Action Representations for Long Videos
    via Sequence Contrastive Learning", CVPR 2022), with its published settings (``POSITIVE_TYPE: gauss``,
    ``NEGATIVE_TYPE: single_noself``).

    The batch holds two (or more) views of each video: clips drawn independently from it (``data.views_per_video:
    2``), told apart by ``video_index``. For each ordered pair of views (U, V) of one video, with embeddings
    L2-normalised and ``s`` the frames' positions in the source video (``steps``):

    - prior ``p_ij = exp(-(s_i - s_j)^2 / (2 variance)) / sum_k exp(-(s_i - s_k)^2 / (2 variance))`` over the
      frames j of V;
    - prediction ``q_ij = softmax_j(u_i . v_j / temperature)``, also over the frames of V only (no other video,
      not U itself);
    - ``L = mean over the valid frames of every view of KL(p_i || q_i)``.

    The published code takes ``log(q + 1e-6)``; here ``log q`` is exact. Needs extras ``steps (B, T)`` and
    ``video_index (B,)``; a video with a single clip in the batch contributes nothing, and a batch without two
    clips of one video is an error.
    """

    needs = frozenset({"steps", "video_index"})
    min_videos = 2
    views = 2

    def __init__(self, temperature: float = 0.1, variance: float = 10.0):
        super().__init__()
        if not float(temperature) > 0:
            raise GtalignError(f"temperature must be > 0, got {temperature!r}")
        if not float(variance) > 0:
            raise GtalignError(f"variance must be > 0 (frames squared), got {variance!r}")
        self.temperature, self.variance = float(temperature), float(variance)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor, steps, video_index) -> torch.Tensor:
        steps = check_steps(steps, embs)
        first, second = view_pairs(video_index, embs.shape[0], embs.device)
        if len(first) == 0:
            raise GtalignError("loss 'scl' compares two views of each video, but no video has two clips in the "
                               "batch; set data.views_per_video: 2")
        e = F.normalize(embs, dim=-1)
        mask = frame_mask(lengths, embs.shape[1])
        valid = mask[first][:, :, None] & mask[second][:, None, :]                     # (P, T, T)
        logits = e[first] @ e[second].transpose(-1, -2) / self.temperature
        log_q = masked_log_softmax(logits, valid)
        gap = (steps[first][:, :, None] - steps[second][:, None, :]).to(embs.dtype)
        log_p = masked_log_softmax(-gap.square() / (2 * self.variance), valid)
        kl = torch.where(valid, log_p.exp() * (log_p - log_q), torch.zeros_like(logits)).sum(-1)  # (P, T)
        rows = mask[first]
        return kl[rows].sum() / rows.sum()
