"""CAM maps (supplement Sec. 7) against a direct numpy computation, and the overlay."""
import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.viz.cam import cam_maps, heat_colors, overlay


def test_cam_maps_match_numpy_reference():
    feats = np.random.default_rng(0).normal(size=(5, 7, 4, 6)).astype(np.float32)
    maps = cam_maps(feats)
    for t in range(5):
        m = feats[t].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(maps[t], (m - m.min()) / (m.max() - m.min()), atol=1e-6)


def test_cam_maps_upsampled_keep_range_size_and_peak():
    feats = np.zeros((3, 2, 7, 7), np.float32)
    peaks = [(1, 1), (3, 5), (6, 2)]
    for t, (y, x) in enumerate(peaks):
        feats[t, :, y, x] = t + 1.0
    maps = cam_maps(feats, size=(70, 56))
    assert maps.shape == (3, 70, 56) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() <= 1.0
    for t, (y, x) in enumerate(peaks):
        py, px = np.unravel_index(np.argmax(maps[t]), maps[t].shape)
        assert py // 10 == y and px // 8 == x
        # bilinear samples at pixel centres: the peak's nearest samples lie up to 1/16 and 1/20 cell from its centre
        assert (1 - 1 / 16) * (1 - 1 / 20) - 1e-5 <= maps[t].max() < 1.0 and maps[t].min() == 0.0


def test_constant_map_is_zero_and_bad_shapes_fail():
    assert not cam_maps(np.ones((2, 3, 4, 4), np.float32)).any()
    with pytest.raises(GtalignError, match=r"\(T, K, h, w\)"):
        cam_maps(np.ones((3, 4, 4), np.float32))


def test_overlay_blends_colour_and_frame():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(2, 8, 9, 3), dtype=np.uint8)
    maps = rng.random((2, 8, 9))
    np.testing.assert_array_equal(overlay(frames, maps, alpha=0.0), frames)
    np.testing.assert_array_equal(overlay(frames, maps, alpha=1.0), heat_colors(maps))
    half = overlay(frames, maps, alpha=0.5).astype(int)
    assert np.abs(half - (frames.astype(int) + heat_colors(maps).astype(int)) / 2).max() <= 1
    with pytest.raises(GtalignError, match="maps must have shape"):
        overlay(frames, maps[:, :4])
