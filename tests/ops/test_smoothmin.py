"""Supplement Sec. 1 properties of smoothMin and min^gamma, and their input checks."""
import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.special import logsumexp

from gtalign.errors import GtalignError
from gtalign.ops import min_gamma, smooth_min
from gtalign.ops.smoothmin import softmin3


def x_of(n: int) -> float:
    """Root x >= 1 of x - 1 = (N - 1) exp(-x) (supplement eq. 5)."""
    return brentq(lambda x: x - 1 - (n - 1) * math.exp(-x), 1.0, 50.0)


def test_x_of_n_published_values():
    assert x_of(2) == pytest.approx(1.2785, abs=1e-4)
    assert x_of(3) == pytest.approx(1.4631, abs=1e-4)
    for n in range(4, 200):
        assert x_of(n) < math.log(n + 1)


@pytest.mark.parametrize("n", [2, 3, 5, 17])
@pytest.mark.parametrize("gamma", [0.01, 0.1, 2.0])
def test_smooth_min_maximum_penalty_is_reached_at_x_of_n(n, gamma):
    x = x_of(n)
    a = torch.tensor([0.0] + [x * gamma] * (n - 1), dtype=torch.float64) + 3.0
    assert float(smooth_min(a, gamma)) - 3.0 == pytest.approx(gamma * (x - 1), rel=1e-10)
    # any other point gives a smaller penalty (random search around the maximiser)
    gen = torch.Generator().manual_seed(n)
    for _ in range(200):
        b = a + torch.rand(n, generator=gen, dtype=torch.float64) * gamma * 3
        assert float(smooth_min(b, gamma) - b.min()) <= gamma * (x - 1) + 1e-12


def test_bounds_on_random_vectors():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(500, 7, generator=gen, dtype=torch.float64) * 5
    for gamma in (1e-4, 0.1, 1.0, 10.0):
        lo = a.min(-1).values
        s, g = smooth_min(a, gamma), min_gamma(a, gamma)
        assert bool((s >= lo).all()) and bool((s <= lo + gamma * (x_of(7) - 1) + 1e-12).all())
        assert bool((g <= lo).all()) and bool((g >= lo - gamma * math.log(7) - 1e-12).all())


def test_against_numpy_formulas():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20, 6)) * 3
    gamma = 0.7
    w = np.exp(-a / gamma) / np.exp(-a / gamma).sum(-1, keepdims=True)
    np.testing.assert_allclose(smooth_min(torch.from_numpy(a), gamma).numpy(), (w * a).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(min_gamma(torch.from_numpy(a), gamma).numpy(), -gamma * logsumexp(-a / gamma, -1),
                               rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_min_gamma_deficit_is_gamma_log_n_exactly_at_a_tie(n):
    a = torch.full((n,), 2.5, dtype=torch.float64)
    assert float(min_gamma(a, 0.3)) == pytest.approx(2.5 - 0.3 * math.log(n), abs=1e-14)
    if n > 1:
        b = a.clone()
        b[0] -= 1e-3  # no longer a tie: the deficit is strictly smaller
        assert float(min_gamma(b, 0.3) - b.min()) > -0.3 * math.log(n) + 1e-6


def test_dim_argument_and_gamma_zero_is_hard_min():
    a = torch.randn(4, 5, 6)
    for dim in (0, 1, 2, -1):
        assert torch.equal(smooth_min(a, 0, dim), a.amin(dim))
        assert torch.equal(min_gamma(a, 0.0, dim), a.amin(dim))
        assert smooth_min(a, 0.1, dim).shape == a.amin(dim).shape


def test_stable_for_large_values_and_tiny_gamma_in_float32():
    a = torch.tensor([1e4, 1e4 + 1e-3, 2e4], dtype=torch.float32)
    s = smooth_min(a, 1e-4)
    g = min_gamma(a, 1e-4)
    assert torch.isfinite(s) and torch.isfinite(g)
    assert float(s) == pytest.approx(1e4, abs=1e-2) and float(g) == pytest.approx(1e4, abs=1e-2)


def test_inf_entries_get_zero_weight_and_finite_gradients():
    a = torch.tensor([[1.0, math.inf, 2.0], [math.inf, math.inf, math.inf]], dtype=torch.float64,
                     requires_grad=True)
    s, g = smooth_min(a, 0.5), min_gamma(a, 0.5)
    s_val, g_val = s.detach(), g.detach()
    finite = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert float(s_val[0]) == pytest.approx(float(smooth_min(finite, 0.5)), rel=1e-14)
    assert float(g_val[0]) == pytest.approx(float(min_gamma(finite, 0.5)), rel=1e-14)
    assert math.isinf(float(s_val[1])) and math.isinf(float(g_val[1]))
    (s[0] + g[0]).backward()
    assert bool(torch.isfinite(a.grad).all())
    assert float(a.grad[0, 1]) == 0.0 and float(a.grad[1].abs().sum()) == 0.0


def test_gradients_against_finite_differences():
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: smooth_min(t, 0.3), (a,))
    assert torch.autograd.gradcheck(lambda t: min_gamma(t, 0.3), (a,))


@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma", "hard"])
def test_softmin3_matches_autograd(relaxation):
    a = torch.randn(50, 3, dtype=torch.float64, requires_grad=True)
    value, d = softmin3(a.detach(), 0.4, relaxation)
    ref = {"smoothmin": smooth_min, "min_gamma": min_gamma, "hard": lambda t, g: smooth_min(t, 0)}[relaxation](a, 0.4)
    ref.sum().backward()
    torch.testing.assert_close(value, ref.detach())
    torch.testing.assert_close(d, a.grad)


@pytest.mark.parametrize("bad, match", [(-0.1, "gamma"), (float("nan"), "gamma"), ("x", "gamma")])
def test_bad_gamma(bad, match):
    with pytest.raises(GtalignError, match=match):
        smooth_min(torch.zeros(3), bad)


def test_bad_input_tensor():
    with pytest.raises(GtalignError, match="NaN"):
        min_gamma(torch.tensor([1.0, float("nan")]), 0.1)
    with pytest.raises(GtalignError, match="at least one entry"):
        smooth_min(torch.zeros(2, 0), 0.1)
    with pytest.raises(GtalignError, match="floating-point"):
        smooth_min(torch.zeros(3, dtype=torch.long), 0.1)
