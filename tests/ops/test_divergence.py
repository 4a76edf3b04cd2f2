"""The soft-DTW divergence: zero on equal inputs, non-negative, symmetric, equal to its definition, padded batches."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gtalign.ops import smooth_dtw, soft_dtw_divergence, sqeuclidean_cost


def test_definition_and_zero_on_equal_inputs():
    torch.manual_seed(0)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(7, 3, dtype=torch.float64)
    sd = lambda a, b: smooth_dtw(sqeuclidean_cost(a, b), 0.5, "min_gamma")  # noqa: E731
    assert float(soft_dtw_divergence(x, y, 0.5)) == pytest.approx(float(sd(x, y) - (sd(x, x) + sd(y, y)) / 2))
    assert float(soft_dtw_divergence(x, x, 0.5)) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.floats(0.05, 5.0), st.integers(0, 10_000))
def test_non_negative_and_symmetric(n, m, gamma, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 2, generator=g, dtype=torch.float64), torch.randn(m, 2, generator=g, dtype=torch.float64)
    d = float(soft_dtw_divergence(x, y, gamma))
    assert d >= -1e-9
    assert d == pytest.approx(float(soft_dtw_divergence(y, x, gamma)), rel=1e-9, abs=1e-9)


def test_padded_batch_equals_each_pair_alone():
    torch.manual_seed(1)
    x, y = torch.randn(2, 6, 3, dtype=torch.float64), torch.randn(2, 5, 3, dtype=torch.float64)
    len_x, len_y = torch.tensor([6, 4]), torch.tensor([3, 5])
    got = soft_dtw_divergence(x, y, 1.0, lengths=(len_x, len_y))
    for b in range(2):
        alone = soft_dtw_divergence(x[b, :len_x[b]], y[b, :len_y[b]], 1.0)
        assert float(got[b]) == pytest.approx(float(alone), rel=1e-10)
