"""Known warps of real videos: the truth positions are the inverse of the warp; changes keep frame shapes sane."""
from __future__ import annotations

import numpy as np
import pytest

from gtalign.data.retime import random_change, random_warp, retimed_frames, truth_positions
from gtalign.errors import GtalignError


@pytest.mark.parametrize("seed", range(5))
def test_truth_inverts_the_warp(seed):
    rng = np.random.default_rng(seed)
    warp = random_warp(300, 30.0, rng)
    assert np.all(np.diff(warp.times_s) >= 0)
    truth, covered = truth_positions(warp, 30.0, 300)
    shown = warp.source_frames(30.0, 300)
    assert covered.sum() > 150 and not covered[0] and not covered[-1]  # lead-in and trailing cuts
    for i in np.flatnonzero(covered)[::17]:
        k = int(np.floor(truth[i]))
        assert shown[k] <= i <= shown[min(k + 1, len(shown) - 1)]
    assert warp.fps != 30.0 and 0.5 <= warp.fps / 30.0 <= 2.5


def test_short_videos_are_refused():
    with pytest.raises(GtalignError, match="at least 8 frames"):
        random_warp(5, 30.0, np.random.default_rng(0))


def test_camera_change_gives_even_sized_frames():
    frames = np.random.default_rng(0).integers(0, 255, size=(20, 90, 160, 3), dtype=np.uint8)
    rng = np.random.default_rng(1)
    out = retimed_frames(frames, 30.0, random_warp(20, 30.0, rng), random_change(rng))
    assert out.dtype == np.uint8 and out.shape[1] % 2 == 0 and out.shape[2] % 2 == 0
    none = retimed_frames(frames, 30.0, random_warp(20, 30.0, rng), random_change(rng, strength=0.0))
    assert none.shape[1:] == frames.shape[1:]
