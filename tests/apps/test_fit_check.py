"""`--fit` checks itself on held-out re-timed copies and keeps the fitted embedder only when it is better."""
from __future__ import annotations

import numpy as np
import pytest

from gtalign.apps.fit_check import MARGIN, CheckCopy, check_fit, copy_error, make_copies


@pytest.fixture(scope="module")
def synth(synth_manifest):
    from gtalign.data import open_source

    return open_source(synth_manifest)


def test_make_copies_writes_retimed_copies_with_their_truth(tmp_path, synth):
    from gtalign.data.video import probe_video

    copies = make_copies(synth, tmp_path, videos=2, per_video=2)
    assert [c.original for c in copies] == [0, 0, 1, 1]
    assert not np.array_equal(copies[0].truth, copies[1].truth)  # each copy has its own warp
    for c in copies:
        n = synth.entries[c.original].num_frames
        assert c.path.exists() and probe_video(c.path).num_frames > 0
        assert c.truth.shape == (n,) and c.covered.any() and np.all(np.diff(c.truth[c.covered]) >= 0)
    again = make_copies(synth, tmp_path / "again", videos=2, per_video=2)
    np.testing.assert_array_equal(again[0].truth, copies[0].truth)  # seeded: the same check every run


def test_check_keeps_the_better_way_and_says_why(synth):
    n = synth.entries[0].num_frames
    truth = np.linspace(0, n / 2, n)
    copy = CheckCopy(0, synth.entries[0].path, synth.entries[0].fps, truth, np.ones(n, bool))
    exact = lambda i, c: c.truth
    off_by_3 = lambda i, c: c.truth + 3.0
    assert copy_error(off_by_3(0, copy), copy, synth.entries[0].fps) == 3.0
    worse = check_fit(synth, [copy], default_positions=exact, fitted_positions=off_by_3)
    assert worse.used == "default" and "did not beat" in worse.reason and worse.fitted_error_frames == 3.0
    better = check_fit(synth, [copy], default_positions=off_by_3, fitted_positions=exact)
    assert better.used == "fitted" and better.fitted_error_frames == 0.0
    # a tie within the margin keeps the default features
    almost = lambda i, c: c.truth + 3.0 * (1 - MARGIN / 2)
    assert check_fit(synth, [copy], default_positions=off_by_3, fitted_positions=almost).used == "default"


def test_fit_refuses_a_one_frame_video_and_names_it(tmp_path):
    from gtalign.apps.fit import fit_embedder
    from gtalign.apps.inputs import open_videos
    from gtalign.data.video import write_video
    from gtalign.errors import GtalignError

    one = write_video(tmp_path / "one.mp4", np.zeros((1, 64, 64, 3), np.uint8), 30)
    many = write_video(tmp_path / "many.mp4", np.zeros((20, 64, 64, 3), np.uint8), 30)
    with pytest.raises(GtalignError, match=r"at least 2 frames per video: one \(1 frame\)"):
        fit_embedder(open_videos([one, many]), tmp_path / "fit")


def test_check_keeps_the_default_when_the_fitted_embedder_loses_on_any_copy(synth):
    n = synth.entries[0].num_frames
    copies = [CheckCopy(0, synth.entries[0].path, synth.entries[0].fps, np.linspace(0, n / 2, n), np.ones(n, bool))
              for _ in range(2)]
    default = lambda k, c: c.truth + 2.0
    fitted = lambda k, c: c.truth + (0.0 if k == 0 else 2.5)  # far better in the mean (1.25 vs 2), worse on copy 1
    check = check_fit(synth, copies, default_positions=default, fitted_positions=fitted)
    assert check.used == "default" and "not better on 1 of 2 copies" in check.reason
    assert check.default_errors == [2.0, 2.0] and check.fitted_errors == [0.0, 2.5]
    assert check.fitted_error_frames == 1.25
    wins_both = lambda k, c: c.truth + (0.0 if k == 0 else 1.5)
    assert check_fit(synth, copies, default_positions=default, fitted_positions=wins_both).used == "fitted"
