"""Feature specs and the fused cost (no video needed)."""
from __future__ import annotations

import numpy as np
import pytest

from gtalign.apps.alignment import PathSettings, align_costs
from gtalign.apps.features import FeatureSpec, VideoFeatures, stream_costs
from gtalign.errors import GtalignError


def test_spec_parses_weights_and_rejects_unknown_streams():
    spec = FeatureSpec.parse("pose+crop:0.5")
    assert spec.weights == (("pose", 1.0), ("crop", 0.5)) and str(spec) == "pose+crop:0.5"
    for bad, match in (("posture", "unknown stream 'posture'"), ("pose:x", "must be a number"),
                       ("pose:-1", "must be > 0"), ("pose+pose", "named twice")):
        with pytest.raises(GtalignError, match=match):
            FeatureSpec.parse(bad)


def test_fused_cost_is_the_weighted_mean_of_median_normalised_streams():
    rng = np.random.default_rng(0)
    a = VideoFeatures({"pose": rng.normal(size=(6, 4)), "crop": rng.normal(size=(6, 3))}, 6, np.ones(6, bool))
    b = VideoFeatures({"pose": rng.normal(size=(7, 4)), "crop": rng.normal(size=(7, 3))}, 7, np.ones(7, bool))
    cost, used = stream_costs(FeatureSpec.parse("pose+crop:0.5"), a, b)
    assert used == ["pose", "crop"]
    sq = lambda x, y: ((x[:, None] - y[None]) ** 2).sum(-1)
    p, c = sq(a.streams["pose"], b.streams["pose"]) / 4, sq(a.streams["crop"], b.streams["crop"])
    np.testing.assert_allclose(cost, (p / np.median(p) + 0.5 * c / np.median(c)) / 1.5, rtol=1e-9)


def test_a_person_missing_in_one_video_falls_back_to_whole_frames():
    rng = np.random.default_rng(0)
    a = VideoFeatures({"pose": rng.normal(size=(6, 4)), "crop": rng.normal(size=(6, 3)),
                       "imagenet": rng.normal(size=(6, 3))}, 6, np.ones(6, bool))
    b = VideoFeatures({"crop": rng.normal(size=(7, 3)), "imagenet": rng.normal(size=(7, 3))}, 7, np.zeros(7, bool))
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
