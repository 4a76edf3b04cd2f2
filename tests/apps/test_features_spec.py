"""Feature specs and the fused cost (no video needed)."""
from __future__ import annotations

import numpy as np
import pytest

from gtalign.apps.align import align_features
from gtalign.apps.alignment import PathSettings, align_costs
from gtalign.apps.features import FeatureSpec, Person, VideoFeatures, pairings, stream_costs
from gtalign.errors import GtalignError


def _video(rng, t: int, people: int) -> VideoFeatures:
    return VideoFeatures({"imagenet": rng.normal(size=(t, 3))}, t,
                         [Person(np.ones(t, bool), {"pose": rng.normal(size=(t, 4)), "crop": rng.normal(size=(t, 3))})
                          for _ in range(people)])


def test_spec_parses_weights_and_rejects_unknown_streams():
    spec = FeatureSpec.parse("pose+crop:0.5")
    assert spec.weights == (("pose", 1.0), ("crop", 0.5)) and str(spec) == "pose+crop:0.5"
    for bad, match in (("posture", "unknown stream 'posture'"), ("pose:x", "must be a number"),
                       ("pose:-1", "must be > 0"), ("pose+pose", "named twice")):
        with pytest.raises(GtalignError, match=match):
            FeatureSpec.parse(bad)


def test_fused_cost_is_the_weighted_mean_of_median_normalised_streams():
    rng = np.random.default_rng(0)
    a = _video(rng, 6, people=1)
    b = _video(rng, 7, people=1)
    cost, used = stream_costs(FeatureSpec.parse("pose+crop:0.5"), a, b)
    assert used == ["pose", "crop"]
    sq = lambda x, y: ((x[:, None] - y[None]) ** 2).sum(-1)
    pa, pb = a.people[0].streams, b.people[0].streams
    p, c = sq(pa["pose"], pb["pose"]) / 4, sq(pa["crop"], pb["crop"])
    np.testing.assert_allclose(cost, (p / np.median(p) + 0.5 * c / np.median(c)) / 1.5, rtol=1e-9)


def test_a_person_missing_in_one_video_falls_back_to_whole_frames():
    rng = np.random.default_rng(0)
    a = _video(rng, 6, people=1)
    b = _video(rng, 7, people=0)
    assert pairings(a, b) == [None] and pairings(a, a) == [(0, 0)]
    assert stream_costs(FeatureSpec.parse("pose"), a, b)[1] == ["imagenet"]
    assert stream_costs(FeatureSpec.parse("pose+crop:0.5"), a, b)[1] == ["imagenet"]
    assert stream_costs(FeatureSpec.parse("pose+crop:0.5"), a, a)[1] == ["pose", "crop"]


def test_align_costs_leaves_out_a_lead_in_and_gives_low_confidence_there():
    t_a = np.arange(80.0)
    t_b = 20 + np.arange(0, 50, 0.8)  # B starts 20 frames into A and runs 1.25x slower
    f = lambda t: np.stack([np.sin(t / 4), np.cos(t / 6), np.sin(t / 9)], 1)
    cost = ((f(t_a)[:, None] - f(t_b)[None]) ** 2).sum(-1)
    cost /= np.median(cost)
    al = align_costs(cost, 30.0, 30.0, PathSettings(skip=0.3))
    truth = np.interp(t_a, t_b, np.arange(len(t_b)))
    inside = (t_a >= 21) & (t_a <= 68)
    assert np.abs(al.b_of_a[inside] - truth[inside]).mean() < 0.5
    assert al.confidence[:12].max() < 0.1 < al.confidence[inside].mean()


def test_the_pairing_of_people_that_aligns_best_is_kept():
    """A's performer is its second person, B's its first; the bystanders do unrelated things."""
    rng = np.random.default_rng(1)
    t = np.arange(60.0)
    motion = lambda u: np.stack([np.sin(u / 5), np.cos(u / 7), np.sin(u / 3), np.cos(u / 11)], 1)
    noise = lambda n: rng.normal(size=(n, 4))
    crop = lambda n: rng.normal(size=(n, 3))
    a = VideoFeatures({"imagenet": crop(60)}, 60, [Person(np.ones(60, bool), {"pose": noise(60), "crop": crop(60)}),
                                                   Person(np.ones(60, bool), {"pose": motion(t), "crop": crop(60)})])
    u = 5 + 0.8 * np.arange(55)  # B: 5 frames later and 0.8x
    b = VideoFeatures({"imagenet": crop(55)}, 55, [Person(np.ones(55, bool), {"pose": motion(u), "crop": crop(55)}),
                                                   Person(np.ones(55, bool), {"pose": noise(55), "crop": crop(55)})])
    found = align_features(FeatureSpec.parse("pose"), a, b, 30.0, 30.0)
    # 4 pairings of people, and whole frames with and without motion
    assert found.people == (1, 0) and found.candidates == 6 and found.streams == ["pose"]
    truth = np.interp(t, u, np.arange(55))
    inside = (t >= 6) & (t <= 47)
    assert np.abs(found.alignment.b_of_a[inside] - truth[inside]).mean() < 1.0
    # whole-frame specs do not loop over people
    assert align_features(FeatureSpec.parse("imagenet"), a, b, 30.0, 30.0).candidates == 1


def test_video_features_round_trip_through_npz(tmp_path):
    rng = np.random.default_rng(2)
    v = _video(rng, 5, people=2)
    v.notes.append("2 people tracked")
    v.save(tmp_path / "f.npz")
    w = VideoFeatures.load(tmp_path / "f.npz")
    assert w.num_frames == 5 and w.notes == v.notes and len(w.people) == 2
    np.testing.assert_array_equal(w.streams["imagenet"], v.streams["imagenet"])
    for p, q in zip(v.people, w.people):
        assert set(p.streams) == set(q.streams)
        np.testing.assert_array_equal(p.valid, q.valid)
        np.testing.assert_array_equal(p.streams["pose"], q.streams["pose"])


def test_whole_frames_replace_people_where_they_show_the_process_more_clearly():
    """A "person" found in a cartoon: its pose and crop are noise, while the whole frames change with the process.
    Whole frames are then compared instead (and people again when `whole_frames` is False, as sync asks)."""
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=(70, 6)), axis=0)
    person = lambda n: Person(np.ones(n, bool), {"pose": rng.normal(size=(n, 4)), "crop": rng.normal(size=(n, 3))})
    a = VideoFeatures({"imagenet": walk[:60] + 0.1 * rng.normal(size=(60, 6)), "motion": rng.normal(size=(60, 5))},
                      60, [person(60)])
    b = VideoFeatures({"imagenet": walk[6:66] + 0.1 * rng.normal(size=(60, 6)), "motion": rng.normal(size=(60, 5))},
                      60, [person(60)])
    found = align_features(FeatureSpec.parse("pose+crop:0.5+imagenet:0.5"), a, b, 30.0, 30.0)
    assert found.people is None and found.streams == ["imagenet"] and found.candidates == 3
    inside = np.arange(8, 58)
    assert np.abs(found.alignment.b_of_a[inside] - (inside - 6)).mean() < 1.0
    people = align_features(FeatureSpec.parse("pose+crop:0.5+imagenet:0.5"), a, b, 30.0, 30.0, whole_frames=False)
    assert people.people == (0, 0) and people.candidates == 1


def test_band_mean_of_banded_features_is_the_whole_frame_pool():
    """The whole-frame stream averages the trunk's horizontal bands (channel-major, as `_Trunk` flattens them):
    on a map whose height splits evenly, that is the global average pool."""
    import torch
    import torch.nn.functional as F

    from gtalign.apps.features import band_mean

    maps = torch.randn(5, 7, 10, 6, generator=torch.Generator().manual_seed(0))
    banded = F.adaptive_avg_pool2d(maps, (2, 1)).flatten(1).numpy()
    pooled = F.adaptive_avg_pool2d(maps, (1, 1)).flatten(1).numpy()
    assert band_mean(banded, 2).shape == (5, 7)
    np.testing.assert_allclose(band_mean(banded, 2), pooled, rtol=1e-5, atol=1e-6)


def test_banded_whole_frames_puts_the_bands_in_place_of_their_mean():
    """`gtalign sync` compares whole frames in bands: the copy's `imagenet` is the kept banded stream, the rest
    (and the original) unchanged; features without bands (older caches, hand-made ones) come back as they are."""
    from gtalign.apps.features import banded_whole_frames

    rng = np.random.default_rng(0)
    mean, bands, motion = rng.normal(size=(9, 3)), rng.normal(size=(9, 6)), rng.normal(size=(9, 5))
    v = VideoFeatures({"imagenet": mean, "imagenet_bands": bands, "motion": motion}, 9)
    w = banded_whole_frames(v)
    assert w.streams["imagenet"] is bands and w.streams["motion"] is motion and w.num_frames == 9
    assert v.streams["imagenet"] is mean
    plain = VideoFeatures({"imagenet": mean}, 9)
    assert banded_whole_frames(plain) is plain


def test_upsample_interpolates_between_the_frames_looked_at_and_holds_the_last():
    from gtalign.apps.features import upsample

    x = np.array([[0.0, 10.0], [3.0, 4.0], [6.0, -2.0]], dtype=np.float32)   # frames 0, 3, 6 of 8
    up = upsample(x, 3, 8)
    assert up.shape == (8, 2) and up.dtype == np.float32
    np.testing.assert_allclose(up[:, 0], [0, 1, 2, 3, 4, 5, 6, 6])            # linear, then held after frame 6
    np.testing.assert_allclose(up[::3], x)                                      # the frames looked at unchanged
    np.testing.assert_array_equal(upsample(np.array([True, False, True]), 2, 6),
                                  [True, False, False, False, True, True])     # True only between Trues
    assert upsample(x, 1, 3) is x
    with pytest.raises(GtalignError, match="stride must be >= 1"):
        from gtalign.apps.features import FeatureExtractor
        FeatureExtractor("imagenet", stride=0)


def test_stride_reaches_the_extractor_of_align_must_be_positive_and_is_not_a_sync_option(capsys):
    from gtalign import cli
    from gtalign.cli.commands.apps import _feature_extractor

    args = cli.build_parser().parse_args(["align", "a.mp4", "b.mp4", "-o", "out", "--features", "imagenet",
                                          "--stride", "3"])
    extractor = _feature_extractor(args)
    assert extractor.stride == 3 and "one frame in 3" in extractor.description
    for argv in (["align", "a.mp4", "b.mp4", "-o", "out", "--stride", "0"],
                 ["sync", "a.mp4", "b.mp4", "-o", "out", "--stride", "2"]):  # sync's clocks lose their confidence
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(argv)
    assert "--stride" in capsys.readouterr().err
    default = cli.build_parser().parse_args(["align", "a.mp4", "b.mp4", "-o", "out", "--features", "imagenet"])
    assert _feature_extractor(default).stride == 1
    sync = cli.build_parser().parse_args(["sync", "a.mp4", "b.mp4", "-o", "out", "--features", "imagenet"])
    assert _feature_extractor(sync).stride == 1


def test_stride_with_a_checkpoint_or_with_arrays_is_refused_before_any_work(tmp_path, capsys):
    from gtalign.cli import main

    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, np.zeros((5, 2))), np.save(b, np.zeros((5, 2)))
    assert main(["align", str(a), str(b), "-o", str(tmp_path / "o1"), "--stride", "2"]) == 2
    assert "--stride and --soft apply to videos, not to per-frame arrays" in capsys.readouterr().err
    assert main(["align", "a.mp4", "b.mp4", "-o", str(tmp_path / "o2"), "--checkpoint", "c.pt", "--stride", "2"]) == 2
    assert "--stride thins the --features streams" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
