"""The calibrated per-frame confidence (`gtalign.apps.confidence`)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtalign.apps.alignment import PathSettings, align_costs
from gtalign.apps.confidence import PLATT, calibrated_confidence, mass_near, platt


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.floats(0.0, 4.0), st.integers(0, 2 ** 31 - 1))
def test_mass_near_equals_a_loop_over_the_cells(n, m, half_width, seed):
    rng = np.random.default_rng(seed)
    post = rng.uniform(0, 1, size=(n, m)) * (rng.uniform(size=(n, m)) < 0.7)
    position = rng.uniform(-2, m + 1, size=n)
    position[rng.uniform(size=n) < 0.2] = np.nan
    got = mass_near(post, position, half_width)
    for i in range(n):
        total = post[i].sum()
        inside = sum(post[i, j] for j in range(m) if np.isfinite(position[i]) and abs(j - position[i]) <= half_width)
        assert got[i] == pytest.approx(inside / total if total > 0 else 0.0, abs=1e-12)


def test_platt_is_the_fitted_logistic_of_the_logit():
    near = np.array([1e-9, 0.2, 0.5, 0.8, 1.0])
    got = platt(near)
    assert np.all(np.diff(got) > 0) and np.all((got > 0) & (got < 1))
    assert got[2] == pytest.approx(1 / (1 + np.exp(-PLATT[0])))  # logit(0.5) = 0
    q = 0.8
    assert got[3] == pytest.approx(1 / (1 + np.exp(-(PLATT[0] + PLATT[1] * np.log(q / (1 - q))))))
    np.testing.assert_allclose(calibrated_confidence(near, np.full(5, 0.5)), 0.5 * got)


def _cost(t_a: np.ndarray, t_b: np.ndarray, feature) -> np.ndarray:
    cost = ((feature(t_a)[:, None] - feature(t_b)[None]) ** 2).sum(-1)
    return cost / np.median(cost)


def test_a_clear_match_is_confident_and_a_hold_is_not():
    """Where A holds still for a while, every way of spreading the hold over B costs about the same: the confidence
    falls inside the hold and stays high where A moves."""
    t_a = np.arange(120, dtype=float)
    t_b = 5 + np.arange(0, 110, 0.8)  # B: A from frame 5 on, slower
    moving = lambda t: np.stack([np.sin(t / 9.0), np.cos(t / 13.0), t / 60.0], axis=1)  # noqa: E731
    held = lambda t: moving(np.where(t < 40, t, np.where(t < 80, 40.0, t - 40)))  # noqa: E731
    fps = 30.0
    sure = align_costs(_cost(t_a, t_b, moving), fps, fps)
    unsure = align_costs(_cost(t_a, t_b, held), fps, fps)
    assert sure.confidence is not None and unsure.confidence is not None
    assert sure.near is not None and unsure.near is not None
    inside = (t_a > 10) & (t_a < 105)
    hold = (t_a > 50) & (t_a < 70)
    assert sure.confidence[inside].mean() > 0.75
    assert unsure.near[hold].mean() < sure.near[hold].mean() - 0.2  # the posterior spreads over the hold
    assert unsure.confidence[hold].mean() < sure.confidence[hold].mean() - 0.05  # scaled, less steeply
    assert 0.0 <= unsure.confidence.min() and sure.confidence.max() <= 1.0
    assert sure.overall_confidence == pytest.approx(sure.confidence[sure.matched > 0.5].mean())


def test_without_calibration_there_is_no_confidence_but_the_certainty_stays():
    t = np.arange(40, dtype=float)
    cost = _cost(t, t, lambda x: np.stack([np.sin(x / 5.0), np.cos(x / 7.0)], axis=1))
    al = align_costs(cost, 30.0, 30.0, PathSettings(calibrate=False))
    assert al.confidence is None and al.near is None and al.overall_confidence is None
    assert al.certainty is not None and al.certainty.shape == (40,)


def test_unsure_frames_are_the_matched_ones_below_one_half_and_the_command_names_them():
    from gtalign.apps.align import unsure_json
    from gtalign.apps.alignment import Alignment
    from gtalign.cli.commands.apps import _confidence_message

    confidence = np.array([0.9, 0.4, 0.3, 0.9, 0.2, 0.1, 0.8, 0.05])
    matched = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 1.0, 0.1])  # the last frame has no counterpart
    al = Alignment(cost=np.ones((8, 8)), path=np.stack([np.arange(8)] * 2, 1), b_of_a=np.arange(8.0),
                   span=((0, 7), (0, 7)), soft=True, matched=matched, confidence=confidence, near=confidence)
    unsure = unsure_json(al)
    assert unsure == {"frames": 4, "stretches": [[1, 2], [4, 5]], "below": 0.5}
    message = _confidence_message({"a": "a.mp4", "confidence": al.overall_confidence, "unsure": unsure})
    assert message.startswith(f"confidence {confidence[:7].mean():.2f}")
    assert "4 frame(s) of a.mp4 below 0.5 in 2 stretch(es): frames 1-2, 4-5" in message
    al.near = None  # a confidence that is not calibrated (Drop-DTW's: matched or not) is not summarised
    assert unsure_json(al) is None and al.overall_confidence is None
    al.confidence = None
    assert unsure_json(al) is None


def test_drop_dtw_has_no_calibrated_confidence_to_summarise():
    t = np.arange(30, dtype=float)
    cost = _cost(t, t, lambda x: np.stack([np.sin(x / 5.0), np.cos(x / 7.0)], axis=1))
    al = align_costs(cost, 30.0, 30.0, PathSettings(drop=True))
    assert al.confidence is not None and set(np.unique(al.confidence)) <= {0.0, 1.0}  # matched or dropped
    assert al.overall_confidence is None
