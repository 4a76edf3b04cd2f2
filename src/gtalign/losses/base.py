"""The common interface of every loss: checked ``forward(embs (B, T, D), lengths=None, **extra) -> scalar``.

A loss declares what it needs beyond the frame embeddings in two class attributes:

- ``needs``: names of ``extra`` keyword arguments it cannot work without (e.g. ``"steps"``);
- ``uses``: names it uses when given (e.g. TCC's ``"steps"``).

Extras that some other loss lists are ignored, so a trainer can pass the same keyword arguments to any loss; a
keyword that no loss lists (a misspelling such as ``step=``) is an error.
"""
from __future__ import annotations

import difflib
from typing import Callable, ClassVar

import torch
from torch import nn

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe

#: Every extra keyword some loss ``needs`` or ``uses`` (filled in as loss classes are defined).
KNOWN_EXTRAS: set[str] = set()


def frame_mask(lengths: torch.Tensor, frames: int) -> torch.Tensor:
    """``(B,)`` valid lengths -> ``(B, T)`` bool, True on valid (non-padded) frames."""
    return torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]


def check_steps(steps, embs: torch.Tensor) -> torch.Tensor:
    """``steps`` as an int64 ``(B, T)`` tensor on ``embs``'s device, or GtalignError."""
    steps = torch.as_tensor(steps, device=embs.device)
    if steps.is_floating_point() or steps.is_complex() or tuple(steps.shape) != tuple(embs.shape[:2]):
        raise GtalignError(f"steps must be an integer tensor of shape {tuple(embs.shape[:2])} (B, T) "
                           f"matching embs, got {describe(steps)}")
    return steps.long()


class FrameLoss(nn.Module):
    """Base class of the losses: input checks, then :meth:`compute` on validated tensors.

    Subclasses set ``needs`` / ``uses`` (see the module docstring), ``min_videos`` (2 for losses over pairs of
    videos), ``min_frames`` (per video) and ``views`` (clips of each video per batch), and implement
    ``compute(embs, lengths, **extra)``.
    """

    name: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset()
    uses: ClassVar[frozenset[str]] = frozenset()
    min_videos: ClassVar[int] = 1
    min_frames: int = 2  # a loss may set it per instance (SpeedNet: from its clip length)
    views: ClassVar[int] = 1  # clips of each video a training batch must hold (SCL compares two views)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        KNOWN_EXTRAS.update(cls.needs | cls.uses)

    def forward(self, embs: torch.Tensor, lengths: torch.Tensor | None = None, **extra) -> torch.Tensor:
        """Scalar loss of frame embeddings ``embs (B, T, D)`` with valid lengths ``lengths (B,)`` (int64).

        Frames at or beyond ``lengths[b]`` are padding and do not change the value. ``extra`` holds what the
        loss ``needs`` (class attribute); extras other losses take are ignored, a keyword no loss takes is an error.
        """
        unknown = sorted(set(extra) - KNOWN_EXTRAS)
        if unknown:
            hints = [f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(k, KNOWN_EXTRAS, 1))
                     else "" for k in unknown]
            raise GtalignError(f"loss {self.name!r}: unknown keyword argument(s) "
                               + ", ".join(f"{k!r}{h}" for k, h in zip(unknown, hints))
                               + f"; the losses take {sorted(KNOWN_EXTRAS)}")
        lengths = self.check_inputs(embs, lengths)
        missing = sorted(self.needs - set(extra))
        if missing:
            raise GtalignError(f"loss {self.name!r} needs extra argument(s) {missing} in forward(embs, lengths, "
                               f"**extra); got {sorted(extra)}")
        wanted = {key: value for key, value in extra.items() if key in self.needs | self.uses}
        return self.compute(embs, lengths, **wanted)

    #: The loss itself, defined by each subclass: ``compute(embs, lengths, **the extras it needs or uses)``, called
    #: by ``forward`` with the inputs checked. A declaration, not a method: each loss names its own extras.
    compute: Callable[..., torch.Tensor]

    def check_inputs(self, embs, lengths) -> torch.Tensor:
        """Validate ``embs`` and return ``lengths`` as int64 ``(B,)`` (all ``T`` when None)."""
        if not isinstance(embs, torch.Tensor) or not embs.is_floating_point() or embs.dim() != 3:
            raise GtalignError(f"embs must be a floating-point tensor of shape (B, T, D), got {describe(embs)}")
        batch, frames, dim = embs.shape
        if batch < self.min_videos:
            raise GtalignError(f"loss {self.name!r} compares videos and needs a batch of at least "
                               f"{self.min_videos} videos, got embs of shape {tuple(embs.shape)}")
        if frames < self.min_frames or dim < 1:
            raise GtalignError(f"loss {self.name!r} needs at least {self.min_frames} frames per video and D >= 1, "
                               f"got embs of shape {tuple(embs.shape)}")
        check_finite("embs", embs)
        if lengths is None:
            return torch.full((batch,), frames, dtype=torch.long, device=embs.device)
        lengths = torch.as_tensor(lengths, device=embs.device)
        if lengths.is_floating_point() or lengths.is_complex() or tuple(lengths.shape) != (batch,):
            raise GtalignError(f"lengths must be an integer tensor of shape ({batch},), got {describe(lengths)}")
        if bool((lengths < self.min_frames).any()) or bool((lengths > frames).any()):
            raise GtalignError(f"lengths must lie in {self.min_frames}..{frames} for loss {self.name!r} "
                               f"(embs of shape {tuple(embs.shape)}), got {lengths.tolist()}")
        return lengths.long()


def gather_frames(embs: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Frames of each video by index: ``embs (B, T, D)``, ``index (B, ...)`` int64 -> ``(B, ..., D)``."""
    flat = index.reshape(index.shape[0], -1)
    picked = torch.gather(embs, 1, flat[..., None].expand(-1, -1, embs.shape[-1]))
    return picked.reshape(*index.shape, embs.shape[-1])
