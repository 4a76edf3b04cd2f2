"""Class-activation-style maps of a learned representation (supplement Sec. 7).

The feature maps of the embedding network's last conv layer are averaged over channels, normalised to [0, 1]
per frame, upsampled to the frame size and overlaid on the frames as a heat map.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe


def cam_maps(features: np.ndarray | torch.Tensor, size: tuple[int, int] | None = None) -> np.ndarray:
    """Channel-averaged, per-frame normalised activation maps.

    Args:
        features: (T, K, h, w) feature maps of T frames (K channels).
        size: (H, W) to upsample to (bilinear); None keeps (h, w).
    Returns:
        float32 (T, H, W) in [0, 1]: per frame, (m - min m) / (max m - min m) of the channel mean m; a constant
        map becomes all zeros.
    """
    feats = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
    if feats.dim() != 4 or not feats.is_floating_point() or 0 in feats.shape:
        raise GtalignError(f"features must be a non-empty float array (T, K, h, w), got {describe(features)}")
    check_finite("features", feats)
    mean = feats.detach().double().mean(dim=1)  # (T, h, w)
    low = mean.amin(dim=(1, 2), keepdim=True)
    span = mean.amax(dim=(1, 2), keepdim=True) - low
    maps = torch.where(span > 0, (mean - low) / span.clamp_min(1e-300), torch.zeros_like(mean))
    if size is not None:
        if len(size) != 2 or min(size) < 1:
            raise GtalignError(f"size must be (H, W) with positive sides, got {size!r}")
        maps = F.interpolate(maps[:, None], size=tuple(int(s) for s in size), mode="bilinear",
                             align_corners=False)[:, 0]
    return maps.clamp(0.0, 1.0).float().cpu().numpy()


def heat_colors(maps: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """Colour maps (T, H, W) in [0, 1] with a matplotlib colormap: uint8 (T, H, W, 3)."""
    rgba = matplotlib.colormaps[cmap](np.clip(maps, 0.0, 1.0))
    return (rgba[..., :3] * 255.0 + 0.5).astype(np.uint8)


def overlay(frames: np.ndarray, maps: np.ndarray, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """Blend heat maps over frames: uint8 frames (T, H, W, 3), maps (T, H, W) in [0, 1] -> uint8 (T, H, W, 3).

    Each pixel is (1 - alpha) * frame + alpha * colour(map).
    """
    frames = np.asarray(frames)
    maps = np.asarray(maps)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise GtalignError(f"frames must be uint8 (T, H, W, 3), got {describe(frames)}")
    if maps.shape != frames.shape[:3]:
        raise GtalignError(f"maps must have shape {frames.shape[:3]} (one (H, W) map per frame), got {describe(maps)}")
    if not 0.0 <= alpha <= 1.0:
        raise GtalignError(f"alpha must lie in [0, 1], got {alpha}")
    heat = heat_colors(maps, cmap).astype(np.float32)
    blended = (1.0 - alpha) * frames.astype(np.float32) + alpha * heat
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
