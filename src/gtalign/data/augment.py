"""Frame preprocessing for the backbones: uint8 frames to float tensors, resizing, per-video augmentation and
normalisation.

Augmentations follow the published TCC/GTA training: horizontal flip, brightness (additive delta, max 32/255),
contrast (factor in [0.5, 1.5] around each frame's per-channel mean, as `tf.image.adjust_contrast`) and a random
resized crop. ONE set of parameters is drawn per video and applied to all of its frames, so the frames of a
clip stay consistent with each other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError, describe
from gtalign.registry import check_choice

# Per-backbone input normalisation: (mean, std) per RGB channel applied to values in [0, 1].
NORMALIZATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "inception": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # to [-1, 1], as the TCC code feeds its networks
    "none": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}


def to_float_frames(frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (N, H, W, 3) to float32 (N, 3, H, W) in [0, 1]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise GtalignError(f"frames: expected uint8 (N, H, W, 3), got {describe(frames)}")
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)


def resize_frames(frames: torch.Tensor, size: int) -> torch.Tensor:
    """Frames (N, 3, H, W) resized to (N, 3, size, size) (bilinear, anti-aliased when shrinking)."""
    if frames.shape[-2:] == (size, size):
        return frames
    return F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def check_normalize(normalize: str) -> str:
    """`normalize` if it names a known normalisation, else a GtalignError."""
    check_choice("normalize", normalize, sorted(NORMALIZATIONS))
    return normalize


def normalize_frames(frames: torch.Tensor, normalize: str = "imagenet") -> torch.Tensor:
    """Frames (N, 3, H, W) in [0, 1] normalised for a backbone: `(x - mean) / std` per channel."""
    mean, std = NORMALIZATIONS[check_normalize(normalize)]
    if normalize == "none":
        return frames
    shape = (1, 3, 1, 1)
    return (frames - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)


@dataclass(frozen=True)
class AugmentParams:
    """One video's augmentation: crop box (top, left, height, width) in pixels, flip, brightness delta and
    contrast factor."""

    crop: tuple[int, int, int, int]
    flip: bool
    brightness: float
    contrast: float


def _check_range(name: str, value: tuple[float, float], low: float, high: float) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise GtalignError(f"{name} must be a pair (min, max), got {value!r}") from None
    if not (low <= a <= b <= high):
        raise GtalignError(f"{name} must satisfy {low} <= min <= max <= {high}, got {value!r}")
    return a, b


class VideoAugment:
    """Random per-video augmentation of a clip's frames.

    `flip`: horizontal flip with probability 1/2; `brightness`: max absolute delta added (0 disables);
    `contrast`: (min, max) factor (None disables); `crop_scale`: (min, max) area fraction of a random crop,
    whose aspect ratio is the frame's times a log-uniform factor in `crop_ratio` (None disables cropping).
    """

    def __init__(self, flip: bool = True, brightness: float = 32 / 255,
                 contrast: tuple[float, float] | None = (0.5, 1.5),
                 crop_scale: tuple[float, float] | None = (0.8, 1.0), crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)):
        if not 0.0 <= float(brightness) <= 1.0:
            raise GtalignError(f"brightness must be a max delta in [0, 1], got {brightness!r}")
        self.flip = bool(flip)
        self.brightness = float(brightness)
        self.contrast = None if contrast is None else _check_range("contrast", contrast, 0.0, math.inf)
        self.crop_scale = None if crop_scale is None else _check_range("crop_scale", crop_scale, 1e-3, 1.0)
        self.crop_ratio = _check_range("crop_ratio", crop_ratio, 1e-3, 1e3)

    def __repr__(self) -> str:
        return (f"VideoAugment(flip={self.flip}, brightness={self.brightness:.4g}, contrast={self.contrast}, "
                f"crop_scale={self.crop_scale}, crop_ratio={self.crop_ratio})")

    def sample(self, rng: np.random.Generator, height: int, width: int) -> AugmentParams:
        """Draw one video's parameters for frames of `height` x `width` pixels."""
        crop = (0, 0, height, width)
        if self.crop_scale is not None:
            area = rng.uniform(*self.crop_scale)
            ratio = math.exp(rng.uniform(math.log(self.crop_ratio[0]), math.log(self.crop_ratio[1])))
            h = min(height, max(1, int(round(height * math.sqrt(area / ratio)))))
            w = min(width, max(1, int(round(width * math.sqrt(area * ratio)))))
            crop = (int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w)
        flip = bool(rng.random() < 0.5) if self.flip else False
        brightness = float(rng.uniform(-self.brightness, self.brightness)) if self.brightness > 0 else 0.0
        contrast = float(rng.uniform(*self.contrast)) if self.contrast is not None else 1.0
        return AugmentParams(crop, flip, brightness, contrast)

    def __call__(self, frames: torch.Tensor, rng: np.random.Generator, size: int) -> torch.Tensor:
        """Augment frames (N, 3, H, W) in [0, 1] of one video; returns (N, 3, size, size) in [0, 1]."""
        return apply_augment(frames, self.sample(rng, frames.shape[-2], frames.shape[-1]), size)


def apply_augment(frames: torch.Tensor, params: AugmentParams, size: int) -> torch.Tensor:
    """Apply one video's augmentation to all its frames (N, 3, H, W) in [0, 1] -> (N, 3, size, size) in [0, 1].

    Order: crop and resize, flip, brightness (x + delta), contrast ((x - mean) * factor + mean, with the mean
    over each frame's pixels per channel), then clipping to [0, 1].
    """
    top, left, h, w = params.crop
    out = resize_frames(frames[..., top:top + h, left:left + w], size)
    if params.flip:
        out = out.flip(-1)
    if params.brightness:
        out = out + params.brightness
    if params.contrast != 1.0:
        mean = out.mean(dim=(-2, -1), keepdim=True)
        out = (out - mean) * params.contrast + mean
    return out.clamp(0.0, 1.0)
