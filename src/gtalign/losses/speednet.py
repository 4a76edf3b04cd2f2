"""SpeedNet: is a clip played at normal speed or sped up? (Benaim et al., CVPR 2020)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, gather_frames
from gtalign.losses.heads import ClipHead, check_dim
from gtalign.losses.registry import register
from gtalign.losses.sampling import Sampler


@register("speednet")
class SpeedNetLoss(FrameLoss):
    r"""SpeedNet (Benaim, Ephrat, Lang, Mosseri, Freeman, Rubinstein, Irani, Dekel, "SpeedNet: Learning the
    Speediness in Videos", CVPR 2020), on the frame embeddings of the sampled steps.

    Per video two clips of ``clip_length`` steps are cut from the batch's T steps: a normal clip (consecutive
    steps, stride 1) and a sped-up clip (stride ``s`` uniform in ``2..max_speed``, limited by the video's
    length), each at a random start. A head (``ClipHead``: temporal conv over the clip's frame embeddings,
    global max pooling over time, linear) gives a logit ``h``;
    ``L = -mean[y log sigmoid(h) + (1 - y) log(1 - sigmoid(h))]`` over the 2B clips, ``y = 1`` for sped-up ones.
    The trainer should sample the steps at a fixed stride for "speed" to mean playback speed.

    The head is learnable (``loss.parameters()``); ``dim`` must equal D. Needs ``T >= 2 * clip_length - 1``.
    """

    def __init__(self, dim: int = 128, clip_length: int = 4, max_speed: int = 4, hidden: int = 128,
                 seed: int | None = None):
        super().__init__()
        if not isinstance(clip_length, int) or clip_length < 2:
            raise GtalignError(f"clip_length must be an int >= 2, got {clip_length!r}")
        if not isinstance(max_speed, int) or max_speed < 2:
            raise GtalignError(f"max_speed must be an int >= 2, got {max_speed!r}")
        self.dim, self.clip_length, self.max_speed = dim, clip_length, max_speed
        self.min_frames = 2 * clip_length - 1           # room for one clip at speed 2
        self.head = ClipHead(dim, hidden)
        self.sampler = Sampler(seed)

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        check_dim(self.name, self.dim, embs)
        batch, span = embs.shape[0], self.clip_length - 1
        zero = torch.zeros_like(lengths)
        fastest = ((lengths - 1) // span).clamp_max(self.max_speed)
        speed = self.sampler.integers(zero + 2, fastest, batch)
        start_normal = self.sampler.integers(zero, lengths - 1 - span, batch)
        start_fast = self.sampler.integers(zero, lengths - 1 - span * speed, batch)
        t = torch.arange(self.clip_length, device=embs.device)
        index = torch.stack([start_normal[:, None] + t, start_fast[:, None] + speed[:, None] * t], 1)  # (B, 2, L)
        logits = self.head(gather_frames(embs, index).flatten(0, 1))                        # (2B,)
        labels = torch.tensor([0.0, 1.0], device=embs.device).repeat(batch).to(logits)
        return F.binary_cross_entropy_with_logits(logits, labels)
