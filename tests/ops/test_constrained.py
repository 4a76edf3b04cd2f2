"""constrained_dtw against an enumeration of every path on tiny matrices."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.ops.constrained import constrained_dtw, constrained_posterior


def _paths(n, m, run, open_begin, open_end):
    """Every valid path as a list of (cells, entered_diagonally flags), by depth-first search; `run` is L or
    (L_a, L_b): the most rows one column may take, and the most columns one row may take."""
    run_a, run_b = run if isinstance(run, tuple) else (run, run)
    starts = [(0, 0)] + ([(i, 0) for i in range(1, n)] + [(0, j) for j in range(1, m)] if open_begin else [])

    def ends_ok(i, j):
        return (i, j) == (n - 1, m - 1) or (open_end and (i == n - 1 or j == m - 1))

    out = []

    def walk(cells, diag_flags, vrun, hrun):
        i, j = cells[-1]
        if ends_ok(i, j):
            out.append((list(cells), list(diag_flags)))
        for di, dj in ((1, 1), (1, 0), (0, 1)):
            a, b = i + di, j + dj
            if a >= n or b >= m:
                continue
            nv = vrun + 1 if (di, dj) == (1, 0) else 0
            nh = hrun + 1 if (di, dj) == (0, 1) else 0
            if nv >= run_a or nh >= run_b:
                continue
            walk(cells + [(a, b)], diag_flags + [(di, dj) == (1, 1)], nv, nh)

    for s in starts:
        walk([s], [True], 0, 0)
    return out


def _path_cost(cost, cells, diag, skip):
    n, m = cost.shape
    (i0, j0), (i1, j1) = cells[0], cells[-1]
    return (sum((2.0 if d else 1.0) * cost[c] for c, d in zip(cells, diag))
            + skip * (i0 + j0 + (n - 1 - i1) + (m - 1 - j1)))


CASES = list(itertools.product([(1, 1), (2, 3), (3, 2), (4, 4), (3, 5)], [1, 2, 3, (1, 2), (3, 1), (2, 4)],
                               [False, True], [False, True]))


@pytest.mark.parametrize("shape,run,open_begin,open_end", CASES)
def test_hard_and_soft_equal_enumeration(shape, run, open_begin, open_end):
    rng = np.random.default_rng(sum(shape) * 10 + sum(np.atleast_1d(run)))
    cost = rng.uniform(0, 2, size=shape)
    skip, gamma = 0.7, 0.3
    paths = _paths(*shape, run, open_begin, open_end)
    if not paths:
        with pytest.raises(GtalignError, match="no path"):
            constrained_dtw(cost, run, skip, open_begin, open_end)
        with pytest.raises(GtalignError, match="no path"):
            constrained_posterior(cost, run, skip, open_begin, open_end, gamma=gamma)
        return
    costs = np.array([_path_cost(cost, c, d, skip) for c, d in paths])
    hard = constrained_dtw(cost, run, skip, open_begin, open_end)
    assert hard.value == pytest.approx(costs.min(), abs=1e-9)
    best = paths[int(np.argmin(costs))][0]
    assert _path_cost(cost, [tuple(c) for c in hard.path], [True] + [
        bool(a[0] != b[0] and a[1] != b[1]) for a, b in zip(hard.path[:-1], hard.path[1:])], skip) \
        == pytest.approx(costs.min(), abs=1e-9)
    assert len(hard.path) >= 1 and tuple(hard.path[0]) in {c for c, _ in [(p[0][0], 0) for p in paths]}
    del best
    soft = constrained_dtw(cost, run, skip, open_begin, open_end, gamma=gamma)
    lse = -gamma * np.log(np.exp(-(costs - costs.min()) / gamma).sum()) + costs.min()
    assert soft.value == pytest.approx(lse, abs=1e-9)
    weights = np.exp(-(costs - costs.min()) / gamma)
    weights /= weights.sum()
    post = np.zeros(shape)
    matched = np.zeros(shape[0])
    for w, (cells, _) in zip(weights, paths):
        for c in cells:
            post[c] += w
        for r in {c[0] for c in cells}:
            matched[r] += w
    np.testing.assert_allclose(soft.posterior, post, atol=1e-9)
    np.testing.assert_allclose(soft.matched, matched, atol=1e-9)
    alone, alone_matched = constrained_posterior(cost, run, skip, open_begin, open_end, gamma=gamma)
    np.testing.assert_allclose(alone, post, atol=1e-9)
    np.testing.assert_allclose(alone_matched, matched, atol=1e-9)


def test_slope_limit_and_open_ends_recover_a_cut_and_a_speed_change():
    """B = A's frames 10.. at half speed then double speed: the path follows it without parking on a border."""
    t_a = np.arange(60, dtype=float)
    t_b = np.r_[10 + np.arange(0, 20, 0.5), 30 + np.arange(0, 24, 2.0)]  # times of A shown in each frame of B
    feat = lambda t: np.stack([np.sin(t / 5.0), np.cos(t / 7.0), np.sin(t / 3.0)], axis=1)
    cost = ((feat(t_a)[:, None] - feat(t_b)[None]) ** 2).sum(-1)
    res = constrained_dtw(cost, max_run=3, skip=0.5, gamma=0.0)
    truth = np.interp(t_a, t_b, np.arange(len(t_b)))
    inside = (t_a >= 10) & (t_a <= 54)
    assert np.abs(res.position[inside] - truth[inside]).max() <= 1.0
    assert res.matched[:8].max() == 0.0  # A's frames before the cut are left out
    runs = np.diff(res.path, axis=0)
    assert ((runs == [1, 0]).all(axis=1) | (runs == [0, 1]).all(axis=1) | (runs == [1, 1]).all(axis=1)).all()


@pytest.mark.parametrize("kwargs,match", [({"max_run": 0}, "max_run"), ({"max_run": (2, 0)}, "max_run"),
                                          ({"max_run": (1, 2, 3)}, "max_run"), ({"max_run": 2.5}, "max_run"),
                                          ({"skip": -1.0}, "skip"), ({"gamma": float("nan")}, "gamma")])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(GtalignError, match=match):
        constrained_dtw(np.ones((3, 3)), **kwargs)


def test_the_posterior_alone_needs_a_temperature():
    with pytest.raises(GtalignError, match="gamma > 0"):
        constrained_posterior(np.ones((3, 3)), gamma=0.0)


def test_non_finite_cost_is_named():
    cost = np.ones((3, 3))
    cost[1, 1] = np.nan
    with pytest.raises(GtalignError, match="cost"):
        constrained_dtw(cost)


def test_whole_numbers_given_as_floats_are_run_lengths():
    """As before runs could be given each way: 3.0 is the run length 3, (6.0, 2) the pair (6, 2)."""
    cost = np.random.default_rng(0).uniform(0, 2, size=(6, 7))
    np.testing.assert_array_equal(constrained_dtw(cost, 3.0).path, constrained_dtw(cost, 3).path)
    np.testing.assert_array_equal(constrained_dtw(cost, (6.0, 2)).path, constrained_dtw(cost, (6, 2)).path)


def test_a_pair_too_large_for_the_free_memory_is_refused_before_the_sweep(monkeypatch):
    import gtalign.ops.buffers as buffers
    import gtalign.ops.constrained as constrained

    monkeypatch.setattr(buffers, "free_memory_bytes", lambda: 10_000_000)  # 10 MB free
    with pytest.raises(GtalignError, match=r"1000 x 1000 frames .* needs about 0\.1 GB, more than the 0\.0 GB free"):
        constrained.constrained_dtw(np.ones((1000, 1000)), max_run=3, gamma=0.05)  # 8 values a cell: 64 MB
    monkeypatch.setattr(buffers, "free_memory_bytes", lambda: 0)  # unknown: no refusal
    assert constrained.constrained_dtw(np.ones((30, 30)), max_run=3).path.shape[1] == 2
