"""The smooth-speed prior on aligned positions (`apps.alignment.smooth_warp`) and its use in `align_costs`."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtalign.apps.alignment import SPREAD_FLOOR, PathSettings, align_costs, smooth_warp


def dense_system(y, spread, matched, fps, smooth_s):
    """The same least-squares problem's normal equations as a dense (N, N) matrix and right-hand side."""
    n = len(y)
    known = np.isfinite(y) & np.isfinite(spread)
    w = np.where(known, matched / (np.where(known, spread, 0) ** 2 + SPREAD_FLOOR ** 2), 0.0)
    w = w + 1e-9 * max(w.max(), 1e-9)
    d = np.zeros((n - 2, n))
    for k in range(n - 2):
        d[k, k:k + 3] = (1, -2, 1)
    lam = (smooth_s * fps) ** 4
    return np.diag(w) + lam * d.T @ d, w * np.where(known, y, 0.0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 14), seed=st.integers(0, 10_000), smooth_s=st.sampled_from([0.02, 0.1, 0.5]))
def test_banded_solve_solves_the_dense_normal_equations(n, seed, smooth_s):
    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.uniform(0, 2, n))
    spread = rng.uniform(0, 4, n)
    matched = rng.uniform(0, 1, n)
    y[rng.random(n) < 0.2] = np.nan  # frames never matched
    got = smooth_warp(y, spread, matched, 30.0, smooth_s)
    if not np.isfinite(y).any():  # nothing to fit: the positions come back as they are
        assert np.isnan(got).all()
        return
    a, b = dense_system(y, spread, matched, 30.0, smooth_s)
    # the system is ill-conditioned for large lambda, so the residual is judged against its scale
    assert np.abs(a @ got - b).max() <= 1e-9 * np.abs(a).max() * max(np.abs(got).max(), 1.0)


def test_unsure_frames_follow_the_speed_of_their_sure_neighbours():
    """A hold in the middle of a constant-speed match: the posterior wanders there (large spread), the sure
    frames on either side fix the line, and the smoothed positions come back to it."""
    n = 90
    truth = 0.5 * np.arange(n) + 3.0
    y, spread = truth.copy(), np.full(n, 0.2)
    y[30:60] = truth[30] + 6 * np.sin(np.linspace(0, np.pi, 30))  # wandering, several frames off
    spread[30:60] = 5.0
    out = smooth_warp(y, spread, np.ones(n), 30.0, 0.1)
    assert np.abs(out[30:60] - truth[30:60]).mean() < 0.5 * np.abs(y[30:60] - truth[30:60]).mean()
    assert np.abs(out[:25] - truth[:25]).max() < 0.1 and np.abs(out[65:] - truth[65:]).max() < 0.1


def test_off_or_too_short_returns_the_positions_unchanged():
    y = np.array([0.0, 1.0, np.nan, 3.5])
    np.testing.assert_array_equal(smooth_warp(y, np.ones(4), np.ones(4), 30.0, 0.0), y)
    np.testing.assert_array_equal(smooth_warp(y[:2], np.ones(2), np.ones(2), 30.0, 0.1), y[:2])


def test_the_time_scale_is_in_seconds_whatever_the_frame_rate():
    """The same warp sampled at 30 and 60 fps is smoothed alike (positions compared at the same instants)."""
    def positions(fps):
        t = np.arange(int(3 * fps)) / fps
        rng = np.random.default_rng(0)
        y = (t + 0.3 * np.sin(7 * t)) * fps + np.interp(t, np.linspace(0, 3, 40), rng.normal(0, 2, 40)) * fps / 30
        return t, smooth_warp(y, np.full(len(t), 1.0), np.ones(len(t)), fps, 0.1) / fps
    t30, p30 = positions(30.0)
    t60, p60 = positions(60.0)
    assert np.abs(np.interp(t30, t60, p60) - p30)[10:-10].max() < 0.01  # seconds


def test_align_costs_smooths_only_inside_the_matched_span():
    rng = np.random.default_rng(1)
    n, m = 60, 50
    cost = rng.uniform(0.5, 1.5, (n, m))
    for i in range(10, n):
        cost[i, i - 10] = 0.0  # A has 10 extra frames at its start
    on = align_costs(cost, 30.0, 30.0)
    off = align_costs(cost, 30.0, 30.0, PathSettings(smooth_s=0.0))
    np.testing.assert_array_equal(on.b_of_a[:on.span[0][0]], off.b_of_a[:off.span[0][0]])
    assert on.span == off.span and np.abs(on.b_of_a[12:] - (np.arange(12, n) - 10)).max() < 0.3


@pytest.mark.parametrize("bad", [np.nan, -1.0])
def test_path_settings_refuse_a_bad_smoothing_time(bad):
    from gtalign.errors import GtalignError

    with pytest.raises(GtalignError, match="smooth_s"):
        PathSettings(smooth_s=bad)


@pytest.mark.parametrize("fps_a,fps_b,runs", [(30.0, 30.0, (3, 3)), (60.0, 30.0, (6, 2)), (30.0, 60.0, (2, 6)),
                                              (60.0, 25.0, (8, 2)), (29.97, 30.0, (3, 3))])
def test_max_run_states_the_speed_limit_in_seconds_each_way(fps_a, fps_b, runs):
    """Speed 3 in seconds per second is a different number of frames each way when frame rates differ."""
    assert PathSettings().max_run(fps_a, fps_b) == runs


def test_a_faster_frame_rate_does_not_loosen_the_limit_the_other_way():
    """A at 60 fps, B at 30: at speed <= 3, one frame of A may take at most 2 frames of B. Costs that pull the path
    across B 4 frames per frame of A (12x in seconds) over a stretch must not be followed: the path there takes
    at most 2 columns per row."""
    n, m = 40, 60
    cost = np.ones((n, m))
    truth = np.r_[np.arange(0, 10) * 0.5, 5 + np.arange(0, 10) * 4.0, 45 + np.arange(0, 20) * 0.5]
    cost[np.arange(n), np.clip(np.rint(truth).astype(int), 0, m - 1)] = 0.0
    al = align_costs(cost, 60.0, 30.0, PathSettings(smooth_s=0.0))
    cols_per_row = np.bincount(al.path[:, 0], minlength=n)
    assert cols_per_row.max() <= 2
