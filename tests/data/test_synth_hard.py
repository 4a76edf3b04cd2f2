"""The hard synthetic data: timing a clock cannot predict, a moving camera, changing light and a distractor, while
the easy data stays exactly as it was."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gtalign.data.synth import VideoSpec, sample_spec
from gtalign.data.synth.skeleton import JOINTS
from gtalign.data.synth.timeline import Warp, canonical_times, sample_warp
from gtalign.errors import GtalignError
from gtalign.evaluate.alignment import mapping_scores, true_correspondence
from gtalign.ops.path import dtw_path, path_to_mapping


def _clock_error(a: VideoSpec, b: VideoSpec) -> float:
    """Mean |frame error| on b of stretching a linearly onto b, against the true correspondence (same canonical
    time), over a's frames whose canonical time b shows."""
    ua, ub = a.canonical_time, b.canonical_time
    guess = np.linspace(0, len(ub) - 1, len(ua))
    inside = (ua >= ub.min()) & (ua <= ub.max())
    truth = np.array([np.argmin(np.abs(ub - u)) for u in ua[inside]])
    return float(np.abs(guess[inside] - truth).mean())


def test_a_clock_is_far_worse_on_hard_timelines():
    errors = {}
    for difficulty in ("easy", "hard"):
        specs = [sample_spec(0, c, i, 40, 120, 32, difficulty) for c in range(4) for i in range(8)]
        errors[difficulty] = np.mean([_clock_error(a, b) for a, b in zip(specs[::2], specs[1::2])])
    assert errors["hard"] > 1.5 * errors["easy"], errors


def test_hard_warps_are_monotone_with_long_idles_speeds_and_cuts():
    specs = [sample_spec(1, c, i, 40, 120, 32, "hard") for c in range(4) for i in range(10)]
    for spec in specs:
        assert np.all(np.diff(spec.canonical_time) >= 0)
    warps = [s.warp for s in specs]
    speeds = np.concatenate([w.phase_durations for w in warps])
    assert speeds.min() < 0.5 and speeds.max() > 2.0 and speeds.min() >= 0.3 and speeds.max() <= 3.0
    assert np.mean([w.lead_in > 0 for w in warps]) > 0.6 and all(1 <= len(w.pauses) <= 3 for w in warps)
    assert any(w.skips for w in warps)
    apps = [s.appearance for s in specs]
    assert all(a.pan != 0 and a.zoom != 1 and a.flicker > 0 for a in apps)
    assert any(a.distractor_radius > 0 for a in apps)


def test_a_cut_skips_canonical_time_in_one_frame():
    warp = Warp([1.0, 1.0], [], 0.0, 1.0, 0.0, 0.0, skips=[(0.3, 0.2)])
    u = canonical_times(warp, 200)
    jumps = np.diff(u)
    assert jumps.max() == pytest.approx(0.2, abs=0.01)
    assert not ((u > 0.31) & (u < 0.49)).any()


def test_easy_specs_are_unchanged_and_hard_ones_render_again_from_their_meta():
    easy = sample_spec(0, 0, 3, 40, 120, 32)
    assert "skips" not in easy.to_meta()["warp"] and "pan" not in easy.to_meta()["appearance"]
    hard = sample_spec(0, 0, 3, 40, 120, 32, "hard")
    again = VideoSpec.from_meta(hard.to_meta())
    first, second = list(hard.frames()), list(again.frames())
    assert len(first) == hard.num_frames and all(np.array_equal(a, b) for a, b in zip(first, second))
    # the camera moves: the background of the first and last frames differ
    assert np.abs(first[0].astype(int) - first[-1].astype(int)).mean() > 3


def test_unknown_difficulty_is_named():
    with pytest.raises(GtalignError, match="difficulty must be one of"):
        sample_spec(0, 0, 0, 40, 120, 32, "medium")


def _dtw_error(features_a: np.ndarray, features_b: np.ndarray, a: VideoSpec, b: VideoSpec) -> float:
    cost = ((features_a[:, None] - features_b[None]) ** 2).reshape(len(features_a), len(features_b), -1).sum(-1)
    path = np.asarray(dtw_path(cost), dtype=np.int64).reshape(-1, 2)
    truth = true_correspondence(a.canonical_time, b.canonical_time)
    return mapping_scores(path_to_mapping(path, len(features_a)), truth)[0]


def test_true_pose_aligns_hard_copies_far_better_than_a_clock():
    """The performer's true 3D joints are the same whatever the camera, and DTW on them recovers a hard warp that a
    clock (the frames' relative times) gets wrong: the benchmark rewards seeing the pose."""
    rng = np.random.default_rng(5)
    pose_errors, clock_errors = [], []
    for c in range(4):
        spec = sample_spec(0, c, 3, 60, 60, 32, "hard")
        elsewhere = sample_spec(0, c, 4, 60, 60, 32, "hard").appearance  # another camera, scene and light
        copy = replace(spec.retimed(sample_warp(spec.action_def.num_phases, rng, "hard"), 80), appearance=elsewhere)
        joints = spec.body_joints()
        assert joints.shape == (60, len(JOINTS), 3) and np.isfinite(joints).all()
        np.testing.assert_array_equal(replace(spec, appearance=elsewhere).body_joints(), joints)
        flat = [s.body_joints().reshape(s.num_frames, -1) for s in (spec, copy)]
        pose_errors.append(_dtw_error(*flat, spec, copy))
        clocks = [np.linspace(0, 1, s.num_frames)[:, None] for s in (spec, copy)]
        clock_errors.append(_dtw_error(*clocks, spec, copy))
    assert np.mean(pose_errors) < 0.5 * np.mean(clock_errors), (pose_errors, clock_errors)
