"""DTW with a slope limit and open ends: the hard path and the soft (forward-backward) posterior of each cell.

A path through the cost matrix C (N, M) matches frames of A (rows) to frames of B (columns) with three moves:
diagonal (both advance), vertical (A advances, B stays) and horizontal (B advances, A stays). Two constraints make
it unable to "cheat" the way plain DTW can:

- **Slope limit** ``max_run = L`` or ``(L_a, L_b)``: one frame of B may be matched to at most L_a consecutive
  frames of A, and one frame of A to at most L_b of B (L for both), so the local speed between the videos lies in
  [1/L_a, L_b] frames of B per frame of A. A path may not park on one frame while the other video runs on. Where
  the videos' frame rates differ, the same limit in seconds is a different number of frames each way
  (`gtalign.apps.alignment.PathSettings.max_run`).
- **Open begin / open end** with a ``skip`` cost per frame: the path may start on the first row or column and end on
  the last row or column; every frame left out at the start or the end costs ``skip``. Lead-in and trailing footage
  that only one video has is left out instead of being matched to the other's first or last frame.

Weights are symmetric: a cell entered diagonally (or where the path starts) costs ``2 C[i, j]``, one entered by a
vertical or horizontal move ``C[i, j]``, so every frame of either video costs about its match cost once, and a frame
left out costs ``skip``; ``skip`` is the cost above which a frame is better left unmatched.

With ``gamma = 0`` the minimum-cost path is found (Viterbi). With ``gamma > 0`` every minimum is replaced by the soft
minimum ``-gamma log sum exp(-x / gamma)`` and a backward sweep gives each cell's posterior probability of lying on
the path (the expected alignment). The posterior of the first cell the path visits in row i (entered from row i-1
or a start) sums over the row to the probability that frame i of A is matched at all.

Memory: the forward values of every cell and state are kept, ``N * M * (L_a + L_b - 1)`` float64 values
(1800 x 1800 frames with L = 3: 130 MB), with the posterior and the cell entries, ``N * M * (L_a + L_b + 2)`` in
all; a pair that would need more than the memory free is refused with a clear error before the sweep.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.ops.buffers import short_of_memory

INF = np.inf


@numba.njit(cache=True, inline="always")
def _soft2(a, b, gamma):
    """min(a, b) for gamma == 0, else -gamma log(exp(-a/gamma) + exp(-b/gamma))."""
    lo = min(a, b)
    if gamma == 0.0 or lo == INF:
        return lo
    hi = max(a, b)
    return lo - gamma * np.log1p(np.exp(-(hi - lo) / gamma))


@numba.njit(cache=True)
def _forward(cost, run, hrun, skip, open_begin, gamma):
    """alpha (N, M, S): the (soft) minimum cost of reaching cell (i, j) in state s, the cell's own cost included.

    States: 0 diagonal (or start), 1..run-1 vertical runs of that length, run..run+hrun-2 horizontal runs
    (`run` = L_a, `hrun` = L_b).
    """
    n, m = cost.shape
    s_count = run + hrun - 1
    alpha = np.full((n, m, s_count), INF)
    for i in range(n):
        for j in range(m):
            c = cost[i, j]
            # diagonal / start
            best = INF
            if i == 0 and j == 0:
                best = 0.0
            elif open_begin and (i == 0 or j == 0):
                best = skip * (i + j)
            if i > 0 and j > 0:
                for s in range(s_count):
                    best = _soft2(best, alpha[i - 1, j - 1, s], gamma)
            alpha[i, j, 0] = best + 2.0 * c if best < INF else INF
            if run > 1:
                # vertical: from (i-1, j)
                if i > 0:
                    into = alpha[i - 1, j, 0]
                    for s in range(run, s_count):
                        into = _soft2(into, alpha[i - 1, j, s], gamma)
                    alpha[i, j, 1] = into + c
                    for k in range(2, run):
                        alpha[i, j, k] = alpha[i - 1, j, k - 1] + c
            if hrun > 1:
                # horizontal: from (i, j-1)
                if j > 0:
                    into = alpha[i, j - 1, 0]
                    for s in range(1, run):
                        into = _soft2(into, alpha[i, j - 1, s], gamma)
                    alpha[i, j, run] = into + c
                    for k in range(2, hrun):
                        alpha[i, j, run + k - 1] = alpha[i, j - 1, run + k - 2] + c
    return alpha


@numba.njit(cache=True, inline="always")
def _end_cost(i, j, n, m, skip, open_end):
    if i == n - 1 and j == m - 1:
        return 0.0
    if open_end and (i == n - 1 or j == m - 1):
        return skip * ((n - 1 - i) + (m - 1 - j))
    return INF


@numba.njit(cache=True)
def _total(alpha, skip, open_end, gamma):
    n, m, s_count = alpha.shape
    total = INF
    for i in range(n):
        for j in range(m):
            e = _end_cost(i, j, n, m, skip, open_end)
            if e < INF:
                for s in range(s_count):
                    total = _soft2(total, alpha[i, j, s] + e, gamma)
    return total


@numba.njit(cache=True)
def _posterior(cost, alpha, run, hrun, skip, open_end, gamma, total):
    """(posterior (N, M), entry (N, M)): each cell's probability of lying on the path, and of being where the path
    enters its row (from the row above or a start)."""
    n, m, s_count = alpha.shape
    post = np.zeros((n, m))
    entry = np.zeros((n, m))
    beta_next = np.full((m, s_count), INF)  # row i+1
    beta = np.full((m, s_count), INF)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            e = _end_cost(i, j, n, m, skip, open_end)
            diag = INF
            if i + 1 < n and j + 1 < m:
                diag = 2.0 * cost[i + 1, j + 1] + beta_next[j + 1, 0]
            for s in range(s_count):
                b = _soft2(e, diag, gamma)
                if run > 1 and i + 1 < n:  # vertical move next
                    if s == 0 or s >= run:
                        b = _soft2(b, cost[i + 1, j] + beta_next[j, 1], gamma)
                    elif s < run - 1:
                        b = _soft2(b, cost[i + 1, j] + beta_next[j, s + 1], gamma)
                if hrun > 1 and j + 1 < m:  # horizontal move next
                    if s < run:
                        b = _soft2(b, cost[i, j + 1] + beta[j + 1, run], gamma)
                    elif s < s_count - 1:
                        b = _soft2(b, cost[i, j + 1] + beta[j + 1, s + 1], gamma)
                beta[j, s] = b
            p_all = 0.0
            p_entry = 0.0
            for s in range(s_count):
                v = alpha[i, j, s] + beta[j, s] - total
                if v < INF:
                    p = np.exp(-v / gamma) if gamma > 0.0 else (1.0 if v <= 1e-9 * (1.0 + abs(total)) else 0.0)
                    p_all += p
                    if s < run:
                        p_entry += p
            post[i, j] = p_all
            entry[i, j] = p_entry
        for j in range(m):
            for s in range(s_count):
                beta_next[j, s] = beta[j, s]
                beta[j, s] = INF
    return post, entry


@numba.njit(cache=True)
def _backtrack(cost, alpha, run, skip, open_begin, open_end):
    """The minimum-cost path (P, 2) from the forward values (gamma = 0)."""
    n, m, s_count = alpha.shape
    best, bi, bj, bs = INF, -1, -1, -1
    for i in range(n):
        for j in range(m):
            e = _end_cost(i, j, n, m, skip, open_end)
            if e < INF:
                for s in range(s_count):
                    if alpha[i, j, s] + e < best:
                        best, bi, bj, bs = alpha[i, j, s] + e, i, j, s
    path = np.empty((n + m, 2), dtype=np.int64)
    p = 0
    i, j, s = bi, bj, bs
    while True:
        path[p, 0], path[p, 1] = i, j
        p += 1
        if s == 0:
            start = INF
            if i == 0 and j == 0:
                start = 0.0
            elif open_begin and (i == 0 or j == 0):
                start = skip * (i + j)
            prev, ps = INF, -1
            if i > 0 and j > 0:
                for t in range(s_count):
                    if alpha[i - 1, j - 1, t] < prev:
                        prev, ps = alpha[i - 1, j - 1, t], t
            if start <= prev:
                break
            i, j, s = i - 1, j - 1, ps
        elif s < run:  # vertical
            if s == 1:
                prev, ps = alpha[i - 1, j, 0], 0
                for t in range(run, s_count):
                    if alpha[i - 1, j, t] < prev:
                        prev, ps = alpha[i - 1, j, t], t
                s = ps
            else:
                s = s - 1
            i -= 1
        else:  # horizontal
            if s == run:
                prev, ps = alpha[i, j - 1, 0], 0
                for t in range(1, run):
                    if alpha[i, j - 1, t] < prev:
                        prev, ps = alpha[i, j - 1, t], t
                s = ps
            else:
                s = s - 1
            j -= 1
    return path[:p][::-1].copy()


@dataclass
class ConstrainedAlignment:
    """The result of :func:`constrained_dtw` for A (N frames) and B (M frames)."""

    value: float              # (soft) minimum total cost, skip costs included
    path: np.ndarray          # (P, 2) int64 minimum-cost path (i, j), possibly starting/ending inside a border
    posterior: np.ndarray     # (N, M) probability that cell (i, j) lies on the path (the 0/1 path when gamma = 0)
    matched: np.ndarray       # (N,) probability that frame i of A is matched (not left out at an end)
    position: np.ndarray      # (N,) expected frame of B matched to frame i of A (NaN where never matched)
    spread: np.ndarray        # (N,) standard deviation of that frame under the posterior (0 for the hard path)


def _runs(max_run: int | tuple[int, int]) -> tuple[int, int]:
    """(L_a, L_b) from ``L`` or ``(L_a, L_b)``, checked."""
    runs = tuple(max_run) if isinstance(max_run, (tuple, list)) else (max_run, max_run)
    if len(runs) != 2 or not all(isinstance(r, (int, float, np.number)) and int(r) == r >= 1 for r in runs):
        raise GtalignError(f"max_run must be a whole number >= 1 or a pair of them (L_a, L_b), got {max_run!r}")
    return int(runs[0]), int(runs[1])


def _check(cost: np.ndarray, skip: float, gamma: float) -> np.ndarray:
    cost = np.asarray(cost)
    if cost.ndim != 2 or 0 in cost.shape or not np.issubdtype(cost.dtype, np.number):
        raise GtalignError(f"cost must be a numeric matrix (N, M) with N, M >= 1, got {describe(cost)}")
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    check_finite("cost", cost)
    if not np.isfinite(skip) or skip < 0:
        raise GtalignError(f"skip must be a finite cost >= 0, got {skip!r}")
    if not np.isfinite(gamma) or gamma < 0:
        raise GtalignError(f"gamma must be >= 0 (0: hard path), got {gamma!r}")
    return cost


def _check_memory(n: int, m: int, states: int) -> None:
    """GtalignError before the sweep when its tables (`states` + 3 values a cell, float64) exceed the free memory."""
    need = (states + 3) * n * m * 8
    free = short_of_memory(need)
    if free:
        raise GtalignError(f"aligning {n} x {m} frames on the slope-limited path needs about {need / 1e9:.1f} GB, "
                           f"more than the {free / 1e9:.1f} GB free: align shorter stretches, or every k-th frame of "
                           "both sequences (per-frame arrays: subsample them, and divide --fps by k)")


def _soft_sweeps(cost: np.ndarray, run: int, hrun: int, skip: float, open_begin: bool, open_end: bool,
                 gamma: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(soft value, posterior (N, M), entries (N, M)) of the forward-backward sweeps at `gamma` > 0; the value is
    +inf where no path fits."""
    alpha = _forward(cost, run, hrun, skip, open_begin, gamma)
    total = _total(alpha, skip, open_end, gamma)
    if not np.isfinite(total):
        return float(total), np.zeros(cost.shape), np.zeros(cost.shape)
    post, entry = _posterior(cost, alpha, run, hrun, skip, open_end, gamma, total)
    return float(total), post, entry


def constrained_posterior(cost: np.ndarray, max_run: int | tuple[int, int] = 3, skip: float = 1.0,
                          open_begin: bool = True, open_end: bool = True, gamma: float = 0.5
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The soft posterior alone, without the hard path: ((N, M) probability that cell (i, j) lies on the path,
    (N,) probability that frame i of A is matched). Arguments as in `constrained_dtw`, with `gamma` > 0.

    A higher temperature than the one used for positions spreads the posterior over the paths that cost nearly
    as much as the best; `gtalign.apps.confidence` reads how much of it stays near the chosen position.

    Raises:
        GtalignError: bad arguments, or no path fits.
    """
    run, hrun = _runs(max_run)
    cost = _check(cost, skip, gamma)
    if gamma <= 0:
        raise GtalignError(f"constrained_posterior needs a temperature gamma > 0, got {gamma!r}")
    n, m = cost.shape
    _check_memory(n, m, run + hrun - 1)
    value, post, entry = _soft_sweeps(cost, run, hrun, float(skip), bool(open_begin), bool(open_end), float(gamma))
    if not np.isfinite(value):
        raise GtalignError(f"no path with max_run={max_run} joins a {n}-frame and an {m}-frame sequence without "
                           "open ends; allow open ends or raise max_run")
    return post, np.clip(entry.sum(axis=1), 0.0, 1.0)


def constrained_dtw(cost: np.ndarray, max_run: int | tuple[int, int] = 3, skip: float = 1.0,
                    open_begin: bool = True, open_end: bool = True, gamma: float = 0.0) -> ConstrainedAlignment:
    """Align the rows of ``cost`` (N, M) to its columns under a slope limit and open ends (module docstring).

    Args:
        cost: (N, M) frame costs, finite.
        max_run: L, the most frames of one video matched to a single frame of the other (1: only diagonal moves),
            or (L_a, L_b): the most frames of A matched to one frame of B, and of B to one frame of A.
        skip: cost of each frame left out at the start or end (used only with open ends).
        open_begin, open_end: whether the path may start / end anywhere on the first / last row or column.
        gamma: 0 for the hard path; > 0 for soft minima and the posterior (same units as the cost).
    Raises:
        GtalignError: bad arguments, or no path fits (e.g. without open ends and N > L * M).
    """
    run, hrun = _runs(max_run)
    cost = _check(cost, skip, gamma)
    n, m = cost.shape
    _check_memory(n, m, run + hrun - 1)
    hard_alpha = _forward(cost, run, hrun, float(skip), bool(open_begin), 0.0)
    hard_total = _total(hard_alpha, float(skip), bool(open_end), 0.0)
    if not np.isfinite(hard_total):
        raise GtalignError(f"no path with max_run={max_run} joins a {n}-frame and an {m}-frame sequence without "
                           "open ends (one would have to move faster against the other than the limit allows); "
                           "allow open ends or raise max_run")
    path = _backtrack(cost, hard_alpha, run, float(skip), bool(open_begin), bool(open_end))
    del hard_alpha  # the soft sweep's values take its place
    if gamma > 0:
        value, post, entry = _soft_sweeps(cost, run, hrun, float(skip), bool(open_begin), bool(open_end), float(gamma))
    else:
        post = np.zeros((n, m))
        post[path[:, 0], path[:, 1]] = 1.0
        entry = np.zeros((n, m))
        first = np.r_[True, path[1:, 0] != path[:-1, 0]]
        entry[path[first, 0], path[first, 1]] = 1.0
        value = float(hard_total)
    mass = post.sum(axis=1)
    cols = np.arange(m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        position = (post @ cols) / mass
        spread = np.sqrt(np.maximum((post @ cols ** 2) / mass - position ** 2, 0.0))
    return ConstrainedAlignment(value=value, path=path, posterior=post, matched=np.clip(entry.sum(axis=1), 0.0, 1.0),
                                position=position, spread=spread)
