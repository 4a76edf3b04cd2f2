"""Camera clocks (gtalign.apps.sync): the robust line fit, the refinement on the cost matrix, the joint solve over
all pairs, confidences and the sync.json shape (no video needed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gtalign.apps import sync
from gtalign.apps.sync import Clock, PairClock, fit_clock, line_cost, refine_clock, sync_from_pairs, sync_json


def _points(rng, offset, rate, fps_a, fps_b, seconds, noise_frames=0.5, outliers=0.0):
    t_a = np.arange(0, seconds, 1 / fps_a)
    t_b = offset + rate * t_a + rng.normal(0, noise_frames / fps_b, len(t_a))
    bad = rng.random(len(t_a)) < outliers
    t_b[bad] += rng.uniform(-1.0, 1.0, bad.sum())  # way off the line
    return t_a, t_b, np.ones(len(t_a))


def test_fit_clock_recovers_the_offset_despite_outliers_and_keeps_rate_one_on_short_footage():
    rng = np.random.default_rng(0)
    t_a, t_b, w = _points(rng, 0.37, 1.0, 30, 60, 3.0, outliers=0.3)
    fit = fit_clock(t_a, t_b, w, 60.0)
    assert fit.clock is not None and fit.clock.rate == 1.0
    assert abs(fit.clock.offset_s - 0.37) * 60 < 0.3  # frames of b
    assert 0.55 < fit.share < 0.85 and fit.residual_frames < 1.0


def test_fit_clock_recovers_drift_on_long_footage_only():
    rng = np.random.default_rng(1)
    t_a, t_b, w = _points(rng, -1.2, 1.004, 25, 50, 60.0, outliers=0.1)
    fit = fit_clock(t_a, t_b, w, 50.0)
    assert abs(fit.clock.rate - 1.004) < 1e-4 and abs(fit.clock.offset_s + 1.2) * 50 < 0.3
    short = fit_clock(t_a[:75], t_b[:75], w[:75], 50.0)  # 3 s: drift of 0.4% is not significant
    assert short.clock.rate == 1.0
    huge = fit_clock(t_a, 0.5 + 1.2 * t_a, w, 50.0)  # 20%: no camera clock drifts that much
    assert huge.clock is None or abs(huge.clock.rate - 1) <= sync.MAX_DRIFT + 1e-12


def test_fit_clock_gives_no_clock_without_a_consistent_overlap():
    rng = np.random.default_rng(2)
    t_a = np.arange(0, 4, 1 / 30)
    scattered = fit_clock(t_a, rng.uniform(0, 4, len(t_a)), np.ones(len(t_a)), 30.0)
    assert scattered.clock is None and "no consistent overlap" in scattered.reason
    few = fit_clock(t_a[:5], t_a[:5], np.ones(5), 30.0)
    assert few.clock is None and "no overlap found" in few.reason


def test_clock_composition():
    ab, bc = Clock(0.5, 1.01), Clock(-0.2, 0.98)
    t = np.linspace(0, 10, 7)
    np.testing.assert_allclose(ab.then(bc)(t), bc(ab(t)), rtol=1e-12)


def test_refine_clock_finds_the_sub_frame_offset_of_the_cost_valley():
    fps_a, fps_b, offset = 30.0, 60.0, 0.2137
    i = np.arange(90)[:, None] / fps_a
    j = np.arange(200)[None] / fps_b
    cost = np.minimum(((j - (offset + i)) * fps_b) ** 2, 25.0)  # a valley along the true line, in frames of b
    t_a = np.arange(90) / fps_a
    rough = PairClock(0, 1, Clock(offset + 1.6 / fps_b, 1.0), 90, 90, 1.0, (0.0, 3.0), 0.0, "", t_a, np.zeros(90))
    fine = refine_clock(cost, fps_a, fps_b, rough)
    assert abs(fine.clock.offset_s - offset) * fps_b < 0.05
    assert line_cost(cost, fps_a, fps_b, fine.clock, np.arange(90)) < line_cost(cost, fps_a, fps_b, rough.clock,
                                                                                 np.arange(90))


def _pair(a, b, clocks, fps, noise=0.0, inliers=100):
    """The true pair clock a -> b from per-camera clocks (camera time = offset + rate * reference time)."""
    ca, cb = clocks[a], clocks[b]
    rate = cb.rate / ca.rate
    offset = cb.offset_s - rate * ca.offset_s + noise / fps[b]
    return PairClock(a, b, Clock(offset, rate), inliers, inliers, 0.5, (0.0, 10.0), 0.0)


def test_joint_solve_recovers_every_camera_and_resists_one_bad_pair():
    fps = [30.0, 60.0, 25.0, 50.0]
    truth = {0: Clock(0.0, 1.0), 1: Clock(0.8, 1.003), 2: Clock(-0.4, 0.998), 3: Clock(2.1, 1.0)}
    pairs = [_pair(a, b, truth, fps) for a in range(4) for b in range(a + 1, 4)]
    pairs[2] = _pair(0, 3, truth, fps, noise=12.0)  # 12 frames off
    result = sync_from_pairs(pairs, 4, 0, fps)
    for cam in result.cameras:
        t = np.linspace(0, 10, 5)
        err = np.abs(cam.clock(t) - truth[cam.index](t)).max() * fps[cam.index]
        assert err < 0.05, (cam.index, err)
        assert cam.status == "ok" and 0.5 <= cam.confidence <= 1.0
    bad = [t for t in result.triples if 0 in t["cameras"] and 3 in t["cameras"]]
    assert bad and all(t["cycle_residual_frames"] > 5 for t in bad)  # the triples through the bad pair show it


def test_a_camera_without_any_clock_is_unreliable_and_gets_no_offset():
    fps = [30.0, 30.0, 30.0]
    truth = {0: Clock(0.0, 1.0), 1: Clock(0.5, 1.0)}
    none = lambda a, b: PairClock(a, b, None, 3, 40, float("inf"), (0.0, 0.0), float("inf"), "no consistent overlap")
    result = sync_from_pairs([_pair(0, 1, truth, fps), none(0, 2), none(1, 2)], 3, 0, fps)
    cam = result.cameras[2]
    assert cam.clock is None and cam.status == "unreliable" and cam.confidence == 0.0
    assert "no consistent overlap" in cam.reason
    doc = sync_json(result, ["cam1.mp4", "cam2.mp4", "cam3.mp4"], fps, [10.0, 10.0, 10.0])
    assert doc["reference"] == "cam1.mp4"
    assert [c["video"] for c in doc["cameras"]] == ["cam1.mp4", "cam2.mp4", "cam3.mp4"]
    assert doc["cameras"][2]["offset_s"] is None and doc["cameras"][2]["status"] == "unreliable"
    first = doc["cameras"][0]
    assert (first["offset_s"], first["rate"], first["confidence"], first["status"]) == (0.0, 1.0, 1.0, "ok")
    assert {"video", "offset_s", "rate", "confidence", "status"} <= set(doc["cameras"][1])
    assert abs(doc["cameras"][1]["offset_s"] - 0.5) < 1e-9


def test_confidence_falls_with_the_spread_of_the_pairs():
    fps = [30.0, 30.0]
    truth = {0: Clock(0.0, 1.0), 1: Clock(0.5, 1.0)}
    sharp = _pair(0, 1, truth, fps, inliers=300)
    loose = PairClock(0, 1, sharp.clock, 12, 30, 1.8, (0.0, 1.0), 0.0)
    c_sharp = sync_from_pairs([sharp], 2, 0, fps).cameras[1]
    c_loose = sync_from_pairs([loose], 2, 0, fps).cameras[1]
    assert c_sharp.status == "ok" and c_loose.confidence < c_sharp.confidence


def test_reference_must_be_a_camera():
    with pytest.raises(Exception, match="reference camera 3"):
        sync_from_pairs([], 2, 3, [30.0, 30.0])


def _feature_cost(offset_s, fps_a, fps_b, seconds_a, seconds_b, noise, rng):
    """Costs between two recordings of one smooth random signal, b's clock `offset_s` ahead of a's."""
    freqs = rng.uniform(0.3, 2.0, size=6)
    phases = rng.uniform(0, 2 * np.pi, size=6)
    signal = lambda t: np.sin(2 * np.pi * freqs * t[:, None] + phases)
    ta, tb = np.arange(0, seconds_a, 1 / fps_a), np.arange(0, seconds_b, 1 / fps_b)
    fa = signal(ta) + noise * rng.normal(size=(len(ta), 6))
    fb = signal(tb - offset_s) + noise * rng.normal(size=(len(tb), 6))  # b's time t shows a's time t - offset
    cost = ((fa[:, None] - fb[None]) ** 2).sum(-1)
    return cost / np.median(cost)


def test_search_offset_finds_the_line_and_says_how_clear_it_is():
    rng = np.random.default_rng(4)
    cost = _feature_cost(1.37, 30.0, 25.0, 8.0, 9.0, 0.2, rng)
    offset, z = sync.search_offset(cost, 30.0, 25.0)
    assert abs(offset - 1.37) * 25 <= 0.5 and z > 2 * sync.MIN_CONTRAST
    _, z_random = sync.search_offset(rng.random((200, 220)), 30.0, 25.0)
    assert z_random < sync.MIN_CONTRAST


def test_pair_clock_on_an_alignment_recovers_the_offset_to_a_fraction_of_a_frame():
    from gtalign.apps.alignment import align_costs

    rng = np.random.default_rng(5)
    cost = _feature_cost(0.81, 30.0, 60.0, 6.0, 6.0, 0.1, rng)
    pc = sync.pair_clock(align_costs(cost, 30.0, 60.0), 30.0, 60.0)
    assert pc.clock is not None and pc.clock.rate == 1.0
    assert abs(pc.clock.offset_s - 0.81) * 60 < 0.5, pc.clock  # frames of b
    assert pc.share > 0.8 and pc.distinct > sync.MIN_CONTRAST
    unrelated = sync.pair_clock(align_costs(rng.random((150, 160)) * 2, 30.0, 30.0), 30.0, 30.0)
    assert unrelated.clock is None and unrelated.reason


def test_pairwise_clocks_align_without_the_smooth_speed_prior_fallback_motion_or_contextual_costs(monkeypatch):
    """The clock line is sync's prior, cameras are other viewpoints and the confidence is calibrated on plain costs:
    every pair goes to `align_features` with `smooth_s` 0, `fallback_motion` and `contextual` False, whole frames
    a candidate beside people (chosen by z), and whole frames in bands."""
    import gtalign.apps.sync_run as sync_run
    from gtalign.apps.features import FeatureSpec, VideoFeatures
    from gtalign.apps.sync_run import pairwise_clocks

    seen = []
    real = sync_run.align_features

    def spy(spec, a, b, fps_a, fps_b, settings, fallback_motion=True, contextual=True, whole_frames=True):
        seen.append((settings.smooth_s, fallback_motion, contextual, whole_frames))
        assert a.streams["imagenet"].shape[1] == 12  # whole frames in bands (`banded_whole_frames`)
        return real(spec, a, b, fps_a, fps_b, settings, fallback_motion=fallback_motion, contextual=contextual,
                    whole_frames=whole_frames)

    monkeypatch.setattr(sync_run, "align_features", spy)
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=(80, 6)), axis=0)
    feats = [VideoFeatures({"imagenet": walk[s:s + 60] + 0.1 * rng.normal(size=(60, 6)),
                            "imagenet_bands": np.repeat(walk[s:s + 60], 2, axis=1),
                            "motion": rng.normal(size=(60, 5))}, 60) for s in (0, 5, 10)]
    pairs = pairwise_clocks(feats, [30.0] * 3, FeatureSpec.parse("pose+crop:0.5+imagenet:0.5"), progress=False)
    assert len(pairs) == 3 and seen == [(0.0, False, False, True)] * 3
    # what each pair compared is kept for sync.json: here nobody is tracked, so whole frames, without motion
    assert all(p.streams == ["imagenet"] and p.people is None for p in pairs)
    assert pairs[0].to_json()["streams"] == ["imagenet"] and pairs[0].to_json()["people"] is None


@pytest.mark.parametrize("second,code", [({"offset_s": 0.0, "rate": 1.0}, 0),      # in sync: passes
                                         ({"offset_s": 0.5, "rate": 1.0}, 1),      # 15 frames off: fails
                                         ({"offset_s": None, "rate": None}, 1)])   # no clock, cannot tell: fails
def test_audit_strict_fails_on_a_camera_off_or_one_it_cannot_tell(tmp_path, monkeypatch, second, code):
    """`audit --strict` passes only when every camera was checked and found in sync."""
    import gtalign.cli.commands.apps as commands
    from gtalign.cli import main

    folder = tmp_path / "scene"
    folder.mkdir()
    for name in ("cam1.mp4", "cam2.mp4"):
        (folder / name).write_bytes(b"")
    cameras = [{"video": "cam1.mp4", "offset_s": 0.0, "rate": 1.0, "fps": 30.0, "duration_s": 10.0,
                "error_frames": 0.1, "confidence": 1.0, "status": "ok"},
               {"video": "cam2.mp4", "fps": 30.0, "duration_s": 10.0, "error_frames": 0.1, "confidence": 0.9,
                "status": "ok"} | second]
    monkeypatch.setattr(commands, "_sync_inputs", lambda args, videos: (None, 0, None, Path(args.out)))
    monkeypatch.setattr(commands, "sync_videos", lambda *a, **k: {"reference": "cam1.mp4", "cameras": cameras})
    assert main(["audit", str(folder), "--quiet", "--strict"]) == code
    assert main(["audit", str(folder), "--quiet"]) == 0
