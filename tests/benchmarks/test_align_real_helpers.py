"""The scoring helpers of `benchmarks/align_real.py` against scikit-learn."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from align_real import roc_auc  # noqa: E402


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_roc_auc_equals_scikit_learn_with_ties(data):
    score = np.array([s for s, _ in data], float)
    positive = np.array([p for _, p in data])
    if positive.all() or not positive.any():
        assert np.isnan(roc_auc(score, positive))
    else:
        assert roc_auc(score, positive) == pytest.approx(roc_auc_score(positive, score))
