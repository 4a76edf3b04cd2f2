"""Display frames kept from the features pass (`apps.display`), and the fall-back to decoding again."""
from __future__ import annotations

import numpy as np

from gtalign.apps import display
from gtalign.apps.display import DisplayFrames, display_frames, display_taps
from gtalign.apps.features import WORKING_SIDE
from gtalign.apps.inputs import open_videos, read_display_frames
from gtalign.data.video import scale_frame


def _frames(rng, n=6, h=60, w=80):
    return rng.integers(0, 255, size=(n, h, w, 3), dtype=np.uint8)


def _folder(path, frames):
    from PIL import Image

    path.mkdir()
    for t, f in enumerate(frames):
        Image.fromarray(f).save(path / f"{t:03d}.png")
    return path


def test_tap_passes_frames_through_and_keeps_scaled_copies(rng):
    frames = list(_frames(rng))
    kept = DisplayFrames(40)
    passed = list(kept.tap(iter(frames)))
    assert all(a is b for a, b in zip(passed, frames))
    got = kept.take()
    np.testing.assert_array_equal(got, np.stack([scale_frame(f, 40) for f in frames]))
    assert got.shape == (6, 30, 40, 3)
    assert kept.frames == []   # taken, not held twice


def test_kept_only_when_the_features_frames_are_large_enough_and_they_fit(tmp_path, rng, monkeypatch):
    source = open_videos([_folder(tmp_path / "a", _frames(rng)),
                          _folder(tmp_path / "b", _frames(rng))])
    assert [type(d) for d in display_taps(source, 480)] == [DisplayFrames, DisplayFrames]
    assert display_taps(source, WORKING_SIDE + 1) is None          # larger than the features pass decodes
    monkeypatch.setattr(display, "KEEP_BYTES", 12 * 480 * 480 * 3 - 1)
    assert display_taps(source, 480) is None                        # 12 frames would not fit


def test_display_frames_fall_back_to_decoding_when_nothing_was_kept(tmp_path, rng):
    source = open_videos([_folder(tmp_path / "a", _frames(rng))])
    expected = read_display_frames(source, 0, 40)
    np.testing.assert_array_equal(display_frames(source, 0, 40, None), expected)
    empty = [DisplayFrames(40)]                                      # a tap that saw nothing (features cached)
    np.testing.assert_array_equal(display_frames(source, 0, 40, empty), expected)
    kept = [DisplayFrames(40)]
    list(kept[0].tap(iter(source.read_frames(0))))
    np.testing.assert_array_equal(display_frames(source, 0, 40, kept), expected)
