"""The scoring and calibration helpers of `benchmarks/align_real.py` (`benchmarks/calibration.py`) against
scikit-learn."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from calibration import calibration_error, fit_platt, left_out, reliability, roc_auc  # noqa: E402

from gtalign.apps.confidence import platt  # noqa: E402


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_roc_auc_equals_scikit_learn_with_ties(data):
    score = np.array([s for s, _ in data], float)
    positive = np.array([p for _, p in data])
    if positive.all() or not positive.any():
        assert np.isnan(roc_auc(score, positive))
    else:
        assert roc_auc(score, positive) == pytest.approx(roc_auc_score(positive, score))


def _draw(seed: int, n: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    near = rng.uniform(0.01, 0.99, size=n)
    p = 1 / (1 + np.exp(-(a + b * np.log(near / (1 - near)))))
    return near, rng.uniform(size=n) < p


@pytest.mark.parametrize("a,b", [(0.9, 0.3), (-0.5, 1.2)])
def test_fit_platt_equals_unregularised_logistic_regression_and_recovers_the_truth(a, b):
    near, positive = _draw(1, 20000, a, b)
    fitted = fit_platt(near, positive)
    x = np.log(near / (1 - near))[:, None]
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=10000).fit(x, positive)
    assert fitted == pytest.approx((ref.intercept_[0], ref.coef_[0, 0]), abs=1e-4)
    assert fitted == pytest.approx((a, b), abs=0.1)


def test_reliability_bins_count_every_frame_and_a_calibrated_score_has_a_small_error():
    near, positive = _draw(2, 20000, 0.0, 1.0)  # P(positive) = near itself
    rows = reliability(near, positive)
    assert sum(n for _, n, _, _ in rows) == len(near)
    assert all(abs(c - p) < 0.05 for _, n, c, p in rows if n > 500)
    assert calibration_error(near, positive) < 0.02
    assert calibration_error(np.clip(near + 0.3, 0, 1), positive) > 0.15


def test_left_out_scores_each_group_with_a_fit_on_the_others():
    near, positive = _draw(3, 3000, 0.5, 0.8)
    group = np.repeat(np.arange(3), 1000)
    held = left_out(near, positive, group)
    for g in range(3):
        other = group != g
        np.testing.assert_allclose(held[group == g], platt(near[group == g], fit_platt(near[other], positive[other])))
