"""The Newton-solved linear SVM against scikit-learn's LinearSVC run to a tight tolerance (the same objective)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from gtalign.errors import GtalignError
from gtalign.evaluate.linear_svm import fit_linear_svm


def _tight_liblinear(x, y, C):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LinearSVC(C=C, dual=False, tol=1e-12, max_iter=100_000).fit(x, y)


def _objective(x, y, w, b, C, positive):
    """f(w) = 1/2 (|w|^2 + b^2) + C sum max(0, 1 - y (w.x + b))^2, the bias regularised as liblinear does."""
    s = np.where(y == positive, 1.0, -1.0)
    hinge = np.maximum(0.0, 1.0 - s * (x @ w + b))
    return 0.5 * (w @ w + b * b) + C * hinge @ hinge


def _blobs(rng, n, d, k, spread):
    centres = rng.normal(size=(k, d)) * 2.0
    y = rng.integers(0, k, n)
    return centres[y] + spread * rng.normal(size=(n, d)), y


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_weights_and_predictions_equal_liblinear_at_a_tight_tolerance(rng, k, C):
    x, y = _blobs(rng, 300, 6, k, spread=2.0)   # overlapping classes: many frames inside the margins
    ours, ref = fit_linear_svm(x, y, C), _tight_liblinear(x, y, C)
    np.testing.assert_array_equal(ours.classes, ref.classes_)
    np.testing.assert_allclose(ours.W[:-1].T, ref.coef_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(ours.W[-1], ref.intercept_, atol=1e-6, rtol=1e-6)
    probe = rng.normal(size=(500, 6)) * 3
    np.testing.assert_allclose(ours.decision_function(probe), ref.decision_function(probe).reshape(500, -1),
                               atol=1e-5)
    np.testing.assert_array_equal(ours.predict(probe), ref.predict(probe))


def test_its_objective_is_no_higher_than_liblinear_at_the_default_tolerance(rng):
    x, y = _blobs(rng, 400, 8, 4, spread=1.5)
    ours = fit_linear_svm(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LinearSVC(C=1.0, dual=False, max_iter=2000).fit(x, y)
    for j, c in enumerate(ours.classes):
        f_ours = _objective(x, y, ours.W[:-1, j], ours.W[-1, j], 1.0, c)
        f_ref = _objective(x, y, ref.coef_[j], ref.intercept_[j], 1.0, c)
        assert f_ours <= f_ref + 1e-9 * abs(f_ref)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(2, 4), n=st.integers(8, 60), d=st.integers(1, 5))
def test_the_gradient_vanishes_at_the_solution(seed, k, n, d):
    # the optimality condition of the strictly convex objective, including separable and one-frame classes
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, d)), rng.integers(0, k, n)
    y[:2] = [0, 1]
    model = fit_linear_svm(x, y)
    X = np.hstack([x, np.ones((n, 1))])
    for j, c in enumerate(model.classes[1:] if len(model.classes) == 2 else model.classes):
        s = np.where(y == c, 1.0, -1.0)
        w = model.W[:, j]
        inside = s * (X @ w) < 1
        grad = w + 2 * X[inside].T @ (X[inside] @ w - s[inside])
        assert np.linalg.norm(grad) <= 1e-6 * max(1.0, np.linalg.norm(2 * X.T @ s))


def test_bad_input_is_named(rng):
    x = rng.normal(size=(10, 3))
    with pytest.raises(GtalignError, match="two labels"):
        fit_linear_svm(x, np.zeros(10, int))
    with pytest.raises(GtalignError, match="NaN"):
        fit_linear_svm(np.where(np.eye(10, 3) > 0, np.nan, x), np.arange(10) % 2)
    with pytest.raises(GtalignError, match=r"\(N, D\)"):
        fit_linear_svm(x, np.arange(9) % 2)
    with pytest.raises(GtalignError, match="C must be positive"):
        fit_linear_svm(x, np.arange(10) % 2, C=0.0)
