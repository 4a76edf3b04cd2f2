"""Subsequence DTW against a brute force over every (start, end) and a float64 cell loop of its recursion."""
import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.ops import smooth_dtw, subsequence_dtw, subsequence_path
from tests._helpers.dtw_reference import local_min, reference_table

RELAXATIONS = ("smoothmin", "min_gamma", "hard")


def reference_score(cost: torch.Tensor, gamma: float, relaxation: str) -> torch.Tensor:
    """The cell loop with row 0 free (0 for j >= 1, +inf at j = 0), then the softmin over the last row."""
    return local_min(reference_table(cost, gamma, relaxation, free_top=True)[-1, 1:], gamma, relaxation)


def brute_force(cost: np.ndarray) -> tuple[float, int, int]:
    """min over s <= e of the plain DTW score of cost[:, s:e+1], with the (s, e) of the first minimum by end."""
    best = (np.inf, -1, -1)
    for e in range(cost.shape[1]):
        for s in range(e + 1):
            score = float(smooth_dtw(torch.from_numpy(cost[:, s:e + 1]), gamma=0.0))
            if score < best[0] - 1e-12:
                best = (score, s, e)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_hard_score_and_path_equal_the_best_of_every_start_and_end(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 5)), int(rng.integers(1, 8))
    cost = rng.uniform(0, 3, (n, m))
    score, s, e = brute_force(cost)
    assert float(subsequence_dtw(torch.from_numpy(cost), gamma=0.0)) == pytest.approx(score)
    match = subsequence_path(cost)
    assert match.score == pytest.approx(score) and (match.start, match.end) == (s, e)
    path = match.path
    assert path[0].tolist() == [0, s] and path[-1].tolist() == [n - 1, e]
    steps = np.diff(path, axis=0)
    assert {tuple(d) for d in steps} <= {(0, 1), (1, 1), (1, 0)}
    assert cost[path[:, 0], path[:, 1]].sum() == pytest.approx(score)


def test_a_query_cut_from_the_reference_is_found_where_it_was_cut():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(60, 4))
    x = y[23:41]
    cost = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    match = subsequence_path(cost)
    assert (match.start, match.end, match.score) == (23, 40, 0.0)
    np.testing.assert_array_equal(match.path, np.stack([np.arange(18), np.arange(23, 41)], 1))


@pytest.mark.parametrize("relaxation", RELAXATIONS)
@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_soft_score_and_gradient_match_the_cell_loop(relaxation, backend):
    torch.manual_seed(0)
    cost = (torch.rand(4, 7, dtype=torch.float64) * 3).requires_grad_(True)
    ours = subsequence_dtw(cost, gamma=0.3, relaxation=relaxation, backend=backend)
    ref = reference_score(cost, 0.3, relaxation)
    assert float(ours.detach()) == pytest.approx(float(ref.detach()), rel=1e-10, abs=1e-12)
    (g_ours,) = torch.autograd.grad(ours, cost)
    (g_ref,) = torch.autograd.grad(ref, cost)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma"])
def test_gradcheck_float64(relaxation):
    cost = (torch.rand(2, 3, 5, dtype=torch.float64) * 2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c: subsequence_dtw(c, gamma=0.5, relaxation=relaxation), (cost,))


def test_padded_batch_equals_unpadded_pairs():
    rng = np.random.default_rng(1)
    sizes = [(3, 9), (5, 4), (1, 6)]
    padded = torch.from_numpy(rng.uniform(0, 2, (3, 5, 9)))
    lengths = (torch.tensor([n for n, _ in sizes]), torch.tensor([m for _, m in sizes]))
    out = subsequence_dtw(padded, gamma=0.2, lengths=lengths)
    for b, (n, m) in enumerate(sizes):
        assert float(out[b]) == pytest.approx(float(subsequence_dtw(padded[b, :n, :m], gamma=0.2)), rel=1e-12)


def test_never_above_the_whole_alignment_for_the_hard_minimum():
    cost = torch.rand(3, 6, 10, dtype=torch.float64)
    assert bool((subsequence_dtw(cost, gamma=0.0) <= smooth_dtw(cost, gamma=0.0) + 1e-12).all())


@pytest.mark.parametrize("call, match", [
    (lambda: subsequence_dtw(torch.rand(3)), "shape"),
    (lambda: subsequence_dtw(torch.tensor([[float("nan")]])), "NaN"),
    (lambda: subsequence_path(np.zeros(3)), r"\(N, M\)"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(GtalignError, match=match):
        call()
