"""Drop-DTW against a brute-force enumeration of every alignment (kept frames, DTW path, drops) on tiny inputs."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.ops import smooth_dtw, soft_alignment
from gtalign.ops.drop_dtw import drop_dtw, drop_dtw_path


def _dtw_paths(n: int, m: int):
    """Every DTW path (list of (a, b)) from (0, 0) to (n-1, m-1)."""
    if n == 1 and m == 1:
        yield [(0, 0)]
        return
    for da, db in ((1, 0), (0, 1), (1, 1)):
        a, b = n - 1 - da, m - 1 - db
        if a >= 0 and b >= 0:
            for path in _dtw_paths(a + 1, b + 1):
                yield path + [(n - 1, m - 1)]


def _subsets(n: int):
    for r in range(n + 1):
        yield from itertools.combinations(range(n), r)


def alignments(cost: np.ndarray, dx: np.ndarray, dy: np.ndarray):
    """(total cost, matched pairs, dropped x, dropped y) of every Drop-DTW alignment."""
    n, m = cost.shape
    for kx in _subsets(n):
        for ky in _subsets(m):
            if (len(kx) == 0) != (len(ky) == 0):
                continue
            drops = sum(dx[i] for i in range(n) if i not in kx) + sum(dy[j] for j in range(m) if j not in ky)
            if not kx:
                yield drops, [], list(range(n)), list(range(m))
                continue
            for path in _dtw_paths(len(kx), len(ky)):
                pairs = [(kx[a], ky[b]) for a, b in path]
                yield (drops + sum(cost[i, j] for i, j in pairs), pairs,
                       [i for i in range(n) if i not in kx], [j for j in range(m) if j not in ky])


def brute(cost, dx, dy, gamma: float, relaxation: str) -> float:
    totals = np.array([a[0] for a in alignments(cost, dx, dy)])
    if relaxation == "hard":
        return float(totals.min())
    return float(-gamma * np.log(np.exp(-(totals - totals.min()) / gamma).sum()) + totals.min())


BACKENDS = ["numba", "torch"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n, m", [(1, 1), (1, 3), (2, 2), (3, 2), (3, 3)])
@pytest.mark.parametrize("relaxation", ["hard", "min_gamma"])
def test_equals_the_enumeration_of_all_alignments(n, m, relaxation, backend):
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(4):
        cost = rng.uniform(0, 2, (n, m))
        dx, dy = rng.uniform(0.2, 1.5, n), rng.uniform(0.2, 1.5, m)
        got = drop_dtw(torch.from_numpy(cost), torch.from_numpy(dx), torch.from_numpy(dy), 0.3, relaxation,
                       backend=backend)
        assert float(got) == pytest.approx(brute(cost, dx, dy, 0.3, relaxation), rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_drops_it_is_plain_dtw(backend):
    torch.manual_seed(0)
    cost = torch.rand(3, 6, 5, dtype=torch.float64)
    for relaxation in ("smoothmin", "min_gamma", "hard"):
        leaf = cost.clone().requires_grad_(True)
        got = drop_dtw(leaf, None, None, 0.2, relaxation, backend=backend)
        torch.testing.assert_close(got, smooth_dtw(cost, 0.2, relaxation))
        grad, = torch.autograd.grad(got.sum(), leaf)
        torch.testing.assert_close(grad, soft_alignment(cost, 0.2, relaxation))


@pytest.mark.parametrize("backend", BACKENDS)
def test_padded_batch_equals_each_pair_alone(backend):
    torch.manual_seed(1)
    cost = torch.rand(2, 5, 6, dtype=torch.float64)
    dx, dy = torch.rand(2, 5, dtype=torch.float64), torch.rand(2, 6, dtype=torch.float64)
    len_x, len_y = torch.tensor([5, 3]), torch.tensor([4, 6])
    got = drop_dtw(cost, dx, dy, 0.1, "smoothmin", lengths=(len_x, len_y), backend=backend)
    for b in range(2):
        alone = drop_dtw(cost[b, :len_x[b], :len_y[b]], dx[b, :len_x[b]], dy[b, :len_y[b]], 0.1, "smoothmin",
                         backend=backend)
        assert float(got[b]) == pytest.approx(float(alone), rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma"])
def test_gradients_pass_float64_gradcheck(relaxation, backend):
    torch.manual_seed(2)
    cost = torch.rand(2, 4, 3, dtype=torch.float64, requires_grad=True)
    dx = torch.rand(2, 4, dtype=torch.float64, requires_grad=True)
    dy = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c, a, b: drop_dtw(c, a, b, 0.5, relaxation, backend=backend),
                                    (cost, dx, dy))


@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma", "hard"])
def test_numba_kernel_equals_the_torch_sweep_with_gradients(relaxation):
    """Padded float32 batches, drops on one side, both or neither (+inf): equal scores and gradients to the costs
    and to the drop costs; padded cells get no gradient."""
    gen = torch.Generator().manual_seed(3)
    b, n, m = 6, 9, 7
    cost = torch.rand(b, n, m, generator=gen) * 2
    len_x, len_y = torch.randint(1, n + 1, (b,), generator=gen), torch.randint(1, m + 1, (b,), generator=gen)
    for dx_on, dy_on in ((True, True), (True, False), (False, True), (False, False)):
        results = {}
        for backend in BACKENDS:
            leaves = [cost.clone().requires_grad_(True),
                      (torch.rand(b, n, generator=torch.Generator().manual_seed(4)) * 1.5).requires_grad_(True),
                      (torch.rand(b, m, generator=torch.Generator().manual_seed(5)) * 1.5).requires_grad_(True)]
            score = drop_dtw(leaves[0], leaves[1] if dx_on else None, leaves[2] if dy_on else None, 0.1, relaxation,
                             lengths=(len_x, len_y), backend=backend)
            weights = torch.arange(1.0, b + 1)
            grads = torch.autograd.grad((score * weights).sum(), leaves, allow_unused=True)
            results[backend] = (score.detach(), [torch.zeros(1) if g is None else g for g in grads])
        torch.testing.assert_close(results["numba"][0], results["torch"][0], rtol=1e-5, atol=1e-5)
        for got, want in zip(results["numba"][1], results["torch"][1]):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        padded = torch.arange(n)[None, :, None] >= len_x[:, None, None]
        assert float(results["numba"][1][0][padded.expand(b, n, m)].abs().sum()) == 0.0


@pytest.mark.parametrize("gamma", [0.002, 0.1, 5.0])
def test_batches_over_several_chunks_of_lanes_equal_the_torch_sweep(gamma):
    """More pairs than one chunk holds (two full chunks and a partial one), each with its own lengths: the same
    scores and gradients as the torch sweep, at small and large gamma (weights that underflow, weights near 1)."""
    from gtalign.ops.drop_dtw_numba import MAX_LANES

    gen = torch.Generator().manual_seed(7)
    b, n, m = 2 * MAX_LANES + 3, 6, 8
    cost = torch.rand(b, n, m, generator=gen, dtype=torch.float64) * 3
    dx, dy = torch.rand(b, n, generator=gen, dtype=torch.float64), torch.rand(b, m, generator=gen, dtype=torch.float64)
    lengths = (torch.randint(1, n + 1, (b,), generator=gen), torch.randint(1, m + 1, (b,), generator=gen))
    results = []
    for backend in BACKENDS:
        leaves = [t.clone().requires_grad_(True) for t in (cost, dx, dy)]
        score = drop_dtw(*leaves, gamma, "smoothmin", lengths=lengths, backend=backend)
        results.append((score.detach(), torch.autograd.grad((score * torch.arange(1.0, b + 1)).sum(), leaves)))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-9, atol=1e-9)
    for got, want in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(got, want, rtol=1e-7, atol=1e-9)


def test_numba_backend_refuses_other_devices_and_unknown_names():
    with pytest.raises(GtalignError, match="backend"):
        drop_dtw(torch.rand(3, 4), 1.0, 1.0, backend="cuda")


def test_the_hard_path_matches_the_enumeration_and_the_score():
    rng = np.random.default_rng(5)
    for _ in range(10):
        n, m = rng.integers(1, 4, 2)
        cost = rng.uniform(0, 2, (n, m))
        dx, dy = rng.uniform(0.1, 1.2, n), rng.uniform(0.1, 1.2, m)
        found = drop_dtw_path(cost, dx, dy)
        best = min(alignments(cost, dx, dy), key=lambda a: a[0])
        assert found.score == pytest.approx(best[0])
        total = cost[tuple(found.path.T)].sum() if len(found.path) else 0.0
        assert total + dx[found.dropped_x].sum() + dy[found.dropped_y].sum() == pytest.approx(found.score)
        # every frame is either matched or dropped, never both
        assert sorted(set(found.path[:, 0]) | set(found.dropped_x)) == list(range(n))
        assert not set(found.path[:, 0]) & set(found.dropped_x)
        assert sorted(set(found.path[:, 1]) | set(found.dropped_y)) == list(range(m))
        assert float(drop_dtw(torch.from_numpy(cost), torch.from_numpy(dx), torch.from_numpy(dy), 0, "hard")) \
            == pytest.approx(found.score)


def test_frames_that_match_nothing_are_dropped():
    # y is x with three foreign frames inserted in the middle: they are dropped, the rest matched one to one
    x = np.linspace(0, 1, 8)[:, None]
    y = np.concatenate([x[:4], np.full((3, 1), 5.0), x[4:]])
    cost = (x[:, None, 0] - y[None, :, 0]) ** 2
    found = drop_dtw_path(cost, drop_x=None, drop_y=0.5)
    assert found.dropped_y.tolist() == [4, 5, 6]
    assert found.dropped_x.tolist() == []
    assert math.isclose(found.score, 1.5, abs_tol=1e-12)


def test_bad_drop_costs_are_named():
    with pytest.raises(GtalignError, match="drop_x"):
        drop_dtw(torch.rand(3, 4), drop_x=torch.rand(5))
    with pytest.raises(GtalignError, match="drop_y"):
        drop_dtw(torch.rand(3, 4), drop_y=torch.tensor([1.0, float("nan"), 1.0, 1.0]))
    with pytest.raises(GtalignError, match="finite"):
        drop_dtw_path(np.full((2, 2), np.nan))


def test_pairs_too_large_for_memory_are_refused_before_the_sweep(monkeypatch):
    from gtalign.ops import buffers

    monkeypatch.setattr(buffers, "free_memory_bytes", lambda: 5_000_000)  # 5 MB free
    expected = r"Drop-DTW of 2 pair\(s\) of 300 x 400 frames needs about 0.0077 GB, more than the 0.005 GB free"
    with pytest.raises(GtalignError, match=expected):
        drop_dtw(torch.rand(2, 300, 400), 1.0, 1.0, backend="numba")
    monkeypatch.setattr(buffers, "free_memory_bytes", lambda: 0)  # unknown: no refusal
    assert drop_dtw(torch.rand(1, 30, 40), 1.0, 1.0, backend="numba").shape == (1,)
