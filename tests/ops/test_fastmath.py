"""The vectorizable exp/log of the numba kernels against numpy in extended precision."""
import numpy as np
import pytest
from numba import njit

from gtalign.ops.fastmath import exp_nonpos, log_1_to_3


@njit
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpos(x[i])


@njit
def _log_all(x, out):
    for i in range(x.shape[0]):
        out[i] = log_1_to_3(x[i])


@pytest.mark.parametrize("dtype, flush", [(np.float32, -60.0), (np.float64, -708.0)])
def test_exp_nonpos_within_one_ulp_and_flushes_tiny_values(dtype, flush):
    rng = np.random.default_rng(0)
    x = np.concatenate([-rng.random(20000) * (-flush), [0.0, -1e-30, flush, flush - 1e-3, -np.inf]]).astype(dtype)
    out = np.empty_like(x)
    _exp_all(x, out)
    ref = np.exp(x.astype(np.longdouble))
    kept = x >= flush
    rel = np.abs(out[kept] - ref[kept]) / ref[kept]
    assert float(rel.max()) <= 1.0 * np.finfo(dtype).eps
    assert bool((out[~kept] == 0).all()) and out.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_1_to_3_within_two_ulp(dtype):
    s = np.concatenate([1 + 2 * np.random.default_rng(1).random(20000), [1.0, np.sqrt(2), 3.0]]).astype(dtype)
    out = np.empty_like(s)
    _log_all(s, out)
    err = np.abs(out - np.log(s.astype(np.longdouble)))
    assert float(err.max()) <= 2 * np.finfo(dtype).eps
