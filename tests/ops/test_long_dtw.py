"""smoothDTW of long sequences block by block: equal to the one-table DTW on the named cost (values and gradients,
every relaxation, cost and block size), float64 gradcheck, float32 at small gamma, memory kept to checkpoint rows,
clear errors."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gtalign.errors import GtalignError
from gtalign.ops import cosine_cost, long_smooth_dtw, smooth_dtw, sqeuclidean_cost

COSTS = {"sqeuclidean": sqeuclidean_cost, "cosine": cosine_cost, "negative_dot": lambda x, y: -(x @ y.T)}


def _reference(x, y, gamma, relaxation, cost):
    """The score and its gradients with the whole cost matrix and table (`smooth_dtw`)."""
    x, y = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
    score = smooth_dtw(COSTS[cost](x, y), gamma, relaxation)
    return (score, *torch.autograd.grad(score, (x, y)))


def _long(x, y, gamma, relaxation, cost, block):
    x, y = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
    score = long_smooth_dtw(x, y, gamma, relaxation, cost, block)
    return (score, *torch.autograd.grad(score, (x, y)))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 10), st.sampled_from(["smoothmin", "min_gamma", "hard"]),
       st.sampled_from(list(COSTS)), st.floats(0.01, 3.0), st.integers(0, 10_000))
def test_equals_the_one_table_dtw(n, m, block, relaxation, cost, gamma, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = (torch.randn(k, 3, generator=g, dtype=torch.float64) for k in (n, m))
    want = _reference(x, y, gamma, relaxation, cost)
    got = _long(x, y, gamma, relaxation, cost, block)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("cost", list(COSTS))
def test_gradcheck_float64(cost):
    torch.manual_seed(0)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    y = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: long_smooth_dtw(a, b, 0.3, cost=cost, block=2), (x, y))


def test_gamma_zero_is_the_hard_dtw_score():
    torch.manual_seed(1)
    x, y = torch.randn(8, 2, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    want = smooth_dtw(sqeuclidean_cost(x, y), 0.0)
    assert float(long_smooth_dtw(x, y, 0.0, "smoothmin")) == pytest.approx(float(want), rel=1e-12)


def test_float32_gradients_stay_exact_at_small_gamma_and_large_costs():
    """Large costs and a tiny gamma: the stored local derivatives keep float32 gradients finite and equal to the
    float64 ones (the property the batch kernels have)."""
    torch.manual_seed(2)
    x, y = 10 * torch.randn(40, 4, dtype=torch.float64), 10 * torch.randn(30, 4, dtype=torch.float64)
    _, gx64, gy64 = _long(x, y, 0.01, "smoothmin", "sqeuclidean", 7)
    _, gx32, gy32 = _long(x.float(), y.float(), 0.01, "smoothmin", "sqeuclidean", 7)
    assert torch.isfinite(gx32).all() and torch.isfinite(gy32).all()
    torch.testing.assert_close(gx32.double(), gx64, rtol=1e-3, atol=1e-3 * float(gx64.abs().max()))
    torch.testing.assert_close(gy32.double(), gy64, rtol=1e-3, atol=1e-3 * float(gy64.abs().max()))


def test_keeps_only_one_row_per_block():
    """The forward keeps ceil(N / K) rows of M + 1 values for the backward (K = ceil(sqrt N)), not the table."""
    n, m = 400, 300
    x = torch.randn(n, 8, requires_grad=True)
    score = long_smooth_dtw(x, torch.randn(m, 8))
    rows = score.grad_fn.state.checkpoints
    block = math.ceil(math.sqrt(n))
    assert len(rows) == math.ceil(n / block) and all(r.shape == (m + 1,) for r in rows)
    assert sum(r.numel() for r in rows) < n * m / 10


@pytest.mark.parametrize("x, y, kwargs, message", [
    (torch.randn(4, 3), torch.randn(5, 2), {}, "same feature size"),
    (torch.randn(4), torch.randn(5, 3), {}, "x must be"),
    (torch.randn(4, 3), torch.zeros(0, 3), {}, "y must be"),
    (torch.tensor([[float("nan")]]), torch.randn(5, 1), {}, "x"),
    (torch.randn(4, 3), torch.randn(5, 3), {"block": 0}, "block"),
    (torch.randn(4, 3), torch.randn(5, 3), {"cost": "manhattan"}, "cost"),
    (torch.randn(4, 3), torch.randn(5, 3), {"gamma": -1.0}, "gamma"),
    (torch.randn(4, 3), torch.randn(5, 3, dtype=torch.float64), {}, "dtype"),
])
def test_bad_input_is_named(x, y, kwargs, message):
    with pytest.raises(GtalignError, match=message):
        long_smooth_dtw(x, y, **kwargs)


@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma", "hard"])
def test_runs_on_every_backend_of_the_core_with_the_same_result(relaxation):
    """The blocks are swept by the core, so the torch backend (the one for any device) gives what numba gives; on a
    CUDA GPU the Triton kernels do the same sweeps (their first-row and last-row paths are tested against torch in
    test_triton_interpreted.py)."""
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(23, 4, generator=g, dtype=torch.float64), torch.randn(17, 4, generator=g, dtype=torch.float64)
    results = []
    for backend in ("numba", "torch"):
        xl, yl = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
        score = long_smooth_dtw(xl, yl, 0.2, relaxation, "cosine", block=5, backend=backend)
        results.append((score, *torch.autograd.grad(score, (xl, yl))))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
