"""dtw_path against exhaustive enumeration of warping paths on small matrices."""

import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.ops import dtw_path, smooth_dtw


def all_paths(n, m):
    """Every monotone warping path from (0, 0) to (n-1, m-1), by recursion."""
    if (n, m) == (1, 1):
        return [[(0, 0)]]
    out = []
    for di, dj in ((1, 0), (0, 1), (1, 1)):
        if n - di >= 1 and m - dj >= 1:
            out += [p + [(n - 1, m - 1)] for p in all_paths(n - di, m - dj)]
    return out


@pytest.mark.parametrize("n, m", [(1, 1), (1, 4), (3, 1), (3, 4), (5, 5)])
def test_path_is_optimal_and_valid(n, m):
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(5):
        cost = rng.random((n, m))
        path = dtw_path(cost)
        assert isinstance(path, np.ndarray) and path.dtype == np.int64 and path.shape[1] == 2
        assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (n - 1, m - 1)
        steps = {tuple(s) for s in np.diff(path, axis=0)}
        assert steps <= {(0, 1), (1, 0), (1, 1)}
        best = min(sum(cost[i, j] for i, j in p) for p in all_paths(n, m))
        assert cost[path[:, 0], path[:, 1]].sum() == pytest.approx(best, rel=1e-12)
        assert float(smooth_dtw(torch.from_numpy(cost), gamma=0)) == pytest.approx(best, rel=1e-12)


def test_torch_input_gives_tensor_and_prefers_diagonal_on_ties():
    path = dtw_path(torch.zeros(4, 4))
    assert isinstance(path, torch.Tensor)
    assert path.tolist() == [[k, k] for k in range(4)]


def test_bad_input():
    with pytest.raises(GtalignError, match=r"\(N, M\)"):
        dtw_path(torch.zeros(2, 3, 4))
    with pytest.raises(GtalignError, match="NaN"):
        dtw_path(np.array([[1.0, np.nan]]))
