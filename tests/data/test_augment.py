"""Per-video augmentation and normalisation, checked against torchvision and plain numpy."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from gtalign.data.augment import (
    NORMALIZATIONS,
    AugmentParams,
    VideoAugment,
    apply_augment,
    normalize_frames,
    resize_frames,
    to_float_frames,
)
from gtalign.errors import GtalignError


def _video(n=3, h=24, w=32, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def test_to_float_and_normalize_match_torchvision():
    u8 = _video()
    x = to_float_frames(u8)
    assert x.shape == (3, 3, 24, 32) and x.dtype == torch.float32
    np.testing.assert_allclose(x.permute(0, 2, 3, 1).numpy() * 255, u8, atol=1e-4)
    mean, std = NORMALIZATIONS["imagenet"]
    torch.testing.assert_close(normalize_frames(x, "imagenet"), TF.normalize(x, list(mean), list(std)))
    torch.testing.assert_close(normalize_frames(x, "inception"), x * 2 - 1)
    assert normalize_frames(x, "none") is x
    with pytest.raises(GtalignError, match="normalize"):
        normalize_frames(x, "resnet")
    with pytest.raises(GtalignError, match="uint8"):
        to_float_frames(u8.astype(np.float32))


def _reference(u8: np.ndarray, p: AugmentParams, size: int) -> np.ndarray:
    """Crop + resize with torchvision, then flip, brightness and per-frame, per-channel contrast in numpy."""
    top, left, h, w = p.crop
    x = TF.resized_crop(torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 255, top, left, h, w, [size, size],
                        antialias=True).numpy().astype(np.float64)
    if p.flip:
        x = x[..., ::-1]
    x = x + p.brightness
    for f in range(x.shape[0]):
        for c in range(3):
            m = x[f, c].mean()
            x[f, c] = (x[f, c] - m) * p.contrast + m
    return np.clip(x, 0, 1)


@pytest.mark.parametrize("params", [AugmentParams((2, 3, 18, 20), True, 0.1, 1.3),
                                    AugmentParams((0, 0, 24, 32), False, -0.12, 0.6),
                                    AugmentParams((5, 0, 10, 30), True, 0.0, 1.0)])
def test_apply_matches_reference(params):
    u8 = _video()
    out = apply_augment(to_float_frames(u8), params, 16)
    assert out.shape == (3, 3, 16, 16)
    np.testing.assert_allclose(out.numpy(), _reference(u8, params, 16), atol=1e-5)


def test_same_parameters_for_every_frame_of_a_video():
    frame = _video(1)
    video = np.concatenate([frame, _video(1, seed=1), frame])
    out = VideoAugment()(to_float_frames(video), np.random.default_rng(5), 16)
    torch.testing.assert_close(out[0], out[2])
    assert not torch.allclose(out[0], out[1])
    # Different videos (different generators) get different parameters.
    aug = VideoAugment()
    draws = {aug.sample(np.random.default_rng(s), 24, 32) for s in range(20)}
    assert len(draws) == 20


def test_sampled_parameters_stay_in_their_ranges():
    aug = VideoAugment(brightness=0.2, contrast=(0.7, 1.2), crop_scale=(0.5, 0.9), crop_ratio=(0.8, 1.25))
    rng = np.random.default_rng(0)
    draws = [aug.sample(rng, 60, 80) for _ in range(400)]
    flips = np.mean([d.flip for d in draws])
    assert 0.4 < flips < 0.6
    assert all(-0.2 <= d.brightness <= 0.2 and 0.7 <= d.contrast <= 1.2 for d in draws)
    for d in draws:
        top, left, h, w = d.crop
        assert 0 <= top and top + h <= 60 and 0 <= left and left + w <= 80
        assert 0.45 <= h * w / (60 * 80) <= 0.95
        assert 0.75 <= (w / 80) / (h / 60) <= 1.3
    off = VideoAugment(flip=False, brightness=0, contrast=None, crop_scale=None).sample(rng, 60, 80)
    assert off == AugmentParams((0, 0, 60, 80), False, 0.0, 1.0)


def test_resize_is_identity_at_the_same_size():
    x = to_float_frames(_video())
    assert resize_frames(x, 24).shape == (3, 3, 24, 24)
    square = x[..., :24]
    assert resize_frames(square, 24) is square


@pytest.mark.parametrize("kwargs, match", [({"contrast": (1.5, 0.5)}, "contrast"), ({"crop_scale": (0.5, 2)},
                                           "crop_scale"), ({"brightness": -1}, "brightness"),
                                           ({"crop_ratio": 3}, "crop_ratio")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(GtalignError, match=match):
        VideoAugment(**kwargs)
