"""Contextual distances (`apps.contextual`) against a cell-by-cell loop; their effect on alignment is measured by
`benchmarks/align_real.py`."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gtalign.apps.contextual import contextual_cost
from gtalign.errors import GtalignError


def _loop(cost: np.ndarray) -> np.ndarray:
    n, m = cost.shape
    out = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            row = sum(cost[i, k] for k in range(m)) / m
            col = sum(cost[k, j] for k in range(n)) / n
            out[i, j] = cost[i, j] / (row * col) ** 0.5
    return out / np.median(out)


def test_equals_a_cell_loop():
    cost = np.random.default_rng(0).uniform(0.1, 3.0, size=(5, 7))
    np.testing.assert_allclose(contextual_cost(cost), _loop(cost), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
              elements=st.one_of(st.just(0.0), st.floats(1e-200, 10.0))),  # no subnormals: scaling flushes them
       st.floats(1e-3, 1e3))
@example(np.array([[4.84e-36]]), 0.125)  # costs this small once fell under an absolute floor at one scale only
@example(np.array([[1e-200]]), 1.0)  # and the product of two such means once underflowed to 0 (0/0)
def test_non_negative_and_unchanged_by_the_costs_scale(cost, scale):
    d = contextual_cost(cost)
    assert d.shape == cost.shape and np.isfinite(d).all() and (d >= 0).all()
    np.testing.assert_allclose(contextual_cost(scale * cost), d, rtol=1e-9, atol=1e-12)


def test_bad_costs_are_named():
    with pytest.raises(GtalignError, match="non-empty matrix"):
        contextual_cost(np.zeros((0, 3)))
    with pytest.raises(GtalignError, match=">= 0"):
        contextual_cost(-np.ones((2, 2)))
    with pytest.raises(GtalignError, match="cost"):
        contextual_cost(np.array([[1.0, np.nan]]))
