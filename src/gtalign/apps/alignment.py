"""Aligning two sequences of frames: the path, where each frame of A lies on B's timeline, the per-frame cost,
confidence and the matched span.

`align_costs` (what `gtalign align` uses) aligns a cost matrix under a slope limit with open ends
(`gtalign.ops.constrained`, settings in `PathSettings`): each frame of A gets a sub-frame position on B (the
posterior mean of the soft alignment), the probability that it is matched at all, and a confidence.
`align_embeddings` is plain DTW on embeddings, kept for the other applications.

Costs are squared Euclidean distances between L2-normalised embeddings (in [0, 4]). The hard alignment is the
optimal DTW path; the soft one (`soft=True`) is smoothDTW's expected alignment (the gradient of the smoothDTW
score with respect to the cost, docs/method.md Sec. 3), whose row-wise mean column gives B's position for each
frame of A.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy.linalg import solveh_banded

from gtalign.apps.confidence import calibrated_confidence, frame_near
from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.ops import dtw_path, path_to_mapping, soft_alignment, sqeuclidean_cost
from gtalign.ops.constrained import constrained_dtw
from gtalign.ops.drop_dtw import drop_dtw_path

Span = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class Alignment:
    """A aligned to B. N frames of A, M of B, P path steps."""

    cost: np.ndarray          # (N, M) frame costs
    path: np.ndarray          # (P, 2) int64 hard DTW path (i, j) from (0, 0) to (N-1, M-1)
    b_of_a: np.ndarray        # (N,) float64: position of each frame of A on B's frame axis
    span: Span                # ((first, last) frame of A, (first, last) frame of B) that match each other
    soft: bool
    matched: np.ndarray | None = None     # (N,) probability that frame i of A has a counterpart in B
    confidence: np.ndarray | None = None  # (N,) probability that frame i's position is within 3 frames of the truth
    #                                       (`apps.confidence`)
    certainty: np.ndarray | None = None   # (N,) in [0, 1]: matched * exp(-spread) of the position's own posterior,
    #                                       `frame_certainty` (the weights of `gtalign sync`'s clock fit)
    near: np.ndarray | None = None        # (N,) the confidence's signal before scaling (`apps.confidence`)
    score: float | None = None            # constrained path only: its cost per frame of A and B, skips included
    dropped: tuple[np.ndarray, np.ndarray] | None = None  # `PathSettings.drop` only: frames of A and of B dropped

    @property
    def calibrated(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(confidence, matched), (N,) each, when `confidence` is the calibrated probability (`apps.confidence`);
        None when it is absent or Drop-DTW's matched flags."""
        if self.confidence is None or self.matched is None or self.near is None:
            return None
        return self.confidence, self.matched

    @property
    def overall_confidence(self) -> float | None:
        """Mean confidence over the frames of A that are matched (probability > 0.5): the expected share of them
        within 3 frames of the truth; None without a calibrated confidence (none asked for, or Drop-DTW's, which
        only says whether a frame is matched)."""
        calibrated = self.calibrated
        if calibrated is None:
            return None
        confidence, matched = calibrated
        conf = confidence[matched > 0.5]
        return float(conf.mean()) if conf.size else 0.0

    @property
    def frame_b(self) -> np.ndarray:
        """(N,) int64: the frame of B shown with each frame of A."""
        return np.rint(self.b_of_a).astype(np.int64)

    @property
    def best_match(self) -> np.ndarray:
        """(N,) int64: for each frame of A, the cheapest frame of B among those the hard path matches to it
        (the soft alignment's nearest frame when `soft`)."""
        if self.soft:
            return self.frame_b
        order = np.lexsort((self.cost[self.path[:, 0], self.path[:, 1]], self.path[:, 0]))
        rows = self.path[order, 0]
        first = np.r_[True, rows[1:] != rows[:-1]]
        return self.path[order[first], 1]

    @property
    def frame_cost(self) -> np.ndarray:
        """(N,) cost between each frame of A and its frame of B."""
        return self.cost[np.arange(len(self.cost)), self.frame_b]

    @property
    def mean_cost(self) -> float:
        """Mean cost per step of the hard path (the length-normalised DTW score)."""
        return float(self.cost[self.path[:, 0], self.path[:, 1]].mean())

    def display_path(self) -> np.ndarray:
        """(N, 2) pairs (i, frame_b[i]): one matched frame of B per frame of A (for plots and videos)."""
        return np.stack([np.arange(len(self.b_of_a)), self.frame_b], axis=1)


def check_embeddings(name: str, emb: np.ndarray) -> np.ndarray:
    emb = np.asarray(emb)
    if emb.ndim != 2 or emb.shape[0] == 0 or not np.issubdtype(emb.dtype, np.floating):
        raise GtalignError(f"{name} must be float embeddings (frames, D) with at least one frame, got {describe(emb)}")
    check_finite(name, emb)
    return emb


def cost_matrix(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    """Squared Euclidean costs (N, M) float64 between embeddings (N, D) and (M, D)."""
    a = torch.from_numpy(np.ascontiguousarray(check_embeddings("emb_a", emb_a), dtype=np.float64))
    b = torch.from_numpy(np.ascontiguousarray(check_embeddings("emb_b", emb_b), dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise GtalignError(f"emb_a and emb_b must have the same dimension D, got {tuple(a.shape)} and {tuple(b.shape)}")
    return sqeuclidean_cost(a, b).numpy()


def matched_span(path: np.ndarray, n: int, m: int) -> Span:
    """The part of both videos that the path matches frame to frame.

    A DTW path must start at (0, 0) and end at (N-1, M-1); content of one video that the other lacks shows up as
    a run along the border: leading frames of A all matched to B's first frame (A has extra content at its start),
    and so on. The span drops those runs but the last frame of each (which is the first real match).
    """
    i, j = path[:, 0], path[:, 1]
    a_first = int(i[j == 0].max())
    b_first = int(j[i == 0].max())
    a_last = int(i[j == m - 1].min())
    b_last = int(j[i == n - 1].min())
    return (a_first, max(a_first, a_last)), (b_first, max(b_first, b_last))


def soft_positions(cost: np.ndarray, gamma: float) -> np.ndarray:
    """Expected frame of B for each frame of A under smoothDTW's soft alignment: (N,) float64."""
    weights = soft_alignment(torch.from_numpy(cost), gamma=gamma).numpy()  # (N, M), rows sum to >= 1
    weights = np.clip(weights, 0.0, None)
    rows = weights.sum(axis=1, keepdims=True)
    return (weights / np.where(rows > 0, rows, 1.0)) @ np.arange(cost.shape[1], dtype=np.float64)


def align_embeddings(emb_a: np.ndarray, emb_b: np.ndarray, soft: bool = False, gamma: float = 0.1) -> Alignment:
    """Align A (N, D) to B (M, D); see the module docstring. `gamma` is smoothDTW's temperature (soft only)."""
    cost = cost_matrix(emb_a, emb_b)
    path = np.asarray(dtw_path(cost), dtype=np.int64)
    b_of_a = soft_positions(cost, gamma) if soft else path_to_mapping(path, len(cost))
    return Alignment(cost=cost, path=path, b_of_a=b_of_a, span=matched_span(path, *cost.shape), soft=soft)


@dataclass(frozen=True)
class PathSettings:
    """How `align_costs` finds the path (costs in units of the pair's median cost, see `apps.features`)."""

    max_speed: float = 3.0   # the fastest one video may run against the other (in seconds per second)
    skip: float = 1.0        # cost of each frame left out at an end: the pair's median cost, so a frame is left out
    #                          only where its best match is worse than a typical frame (lead-in / trailing footage)
    gamma: float = 0.05      # soft-minimum temperature of the posterior that gives sub-frame positions
    open_ends: bool = True
    spread_scale: float = 1.0  # posterior spread (in frames of B) at which the certainty falls to 1/e
    smooth_s: float = 0.1    # time scale (seconds of A) of the smooth-speed prior on positions (`smooth_warp`); 0: off
    calibrate: bool = True   # the calibrated per-frame confidence (`apps.confidence`: one more soft sweep); without
    #                          it `confidence` is None (`gtalign sync` reads only the certainty)
    drop: bool = False       # Drop-DTW instead (`drop_alignment`): any frame, not only at the ends, may be dropped at
    #                          the `skip` cost; no slope limit, posterior or smoothing

    def __post_init__(self) -> None:
        if not (np.isfinite(self.smooth_s) and self.smooth_s >= 0):
            raise GtalignError(f"smooth_s must be a time in seconds >= 0 (0: no smoothing), got {self.smooth_s!r}")

    def max_run(self, fps_a: float, fps_b: float) -> tuple[int, int]:
        """(L_a, L_b): the most frames of A matched to one frame of B, and of B to one frame of A, at `max_speed`
        given the frame rates (`gtalign.ops.constrained`). Each way its own: with A at 60 fps and B at 30, speed 3
        is 6 frames of A on one of B but 2 (1.5 rounded up) of B on one of A; one limit for both, 6, let B run 12x.
        Rounded up, less 1% (29.97 and 30 fps count as the same rate)."""
        return (max(1, int(np.ceil(self.max_speed * fps_a / fps_b - 0.01))),
                max(1, int(np.ceil(self.max_speed * fps_b / fps_a - 0.01))))


def frame_certainty(matched: np.ndarray, spread: np.ndarray, scale: float) -> np.ndarray:
    """(N,) in [0, 1]: the probability that a frame is matched times exp(-spread / scale), spread being the
    posterior's standard deviation of its position in B (frames)."""
    spread = np.where(np.isfinite(spread), spread, np.inf)
    return np.clip(matched * np.exp(-spread / max(scale, 1e-9)), 0.0, 1.0)


#: Posterior spread (frames of B) added to every frame's in `smooth_warp`'s weights: no frame's position is trusted
#: to better than about half a frame, however peaked its posterior.
SPREAD_FLOOR = 0.5


def smooth_warp(position: np.ndarray, spread: np.ndarray, matched: np.ndarray, fps_a: float,
                smooth_s: float) -> np.ndarray:
    """Positions (N,) on B made to follow a smooth speed where the alignment is unsure, (N,) float64.

    Within a hold, a pause or any stretch where frames look alike, every path through the block costs about the
    same and the soft path's position wanders (several frames off over a whole stretch), while the speed on either
    side is clear. The fix is a penalised least-squares fit (a Whittaker smoother):

        minimise  sum_i w_i (p_i - position_i)^2 + lambda sum_i (p_{i-1} - 2 p_i + p_{i+1})^2,

    with weights ``w_i = matched_i / (spread_i^2 + SPREAD_FLOOR^2)`` (a frame is trusted by the inverse variance of
    its posterior) and ``lambda = (smooth_s * fps_a)^4``, so that the prior acts over about `smooth_s` seconds of A
    whatever the frame rate. Sure frames keep their positions; unsure ones follow the speed of their sure
    neighbours. Frames never matched (NaN position) have no weight and continue the line of their neighbours.
    `smooth_s <= 0`, fewer than 3 frames or no matched frame return the positions unchanged (NaN as they are).
    """
    y = np.asarray(position, dtype=np.float64)
    n = len(y)
    if smooth_s <= 0 or n < 3:
        return y.copy()
    known = np.isfinite(y) & np.isfinite(spread)
    if not known.any():
        return y.copy()
    w = np.where(known, np.clip(matched, 0.0, 1.0) / (np.where(known, spread, 0.0) ** 2 + SPREAD_FLOOR ** 2), 0.0)
    w = w + 1e-9 * max(float(w.max()), 1e-9)  # keeps the system positive definite where no frame is known
    lam = float(smooth_s * fps_a) ** 4
    # lambda * D^T D, D the (N-2, N) second-difference matrix, in upper banded form (3 rows: offsets 2, 1, 0)
    d0 = np.full(n, 6.0)
    d0[[0, -1]], d0[[1, -2]] = 1.0, 5.0
    d1 = np.full(n - 1, -4.0)
    d1[[0, -1]] = -2.0
    bands = np.zeros((3, n))
    bands[0, 2:] = lam
    bands[1, 1:] = lam * d1
    bands[2] = lam * d0 + w
    if n == 3:
        bands[2] = lam * np.array([1.0, 4.0, 1.0]) + w
        bands[1, 1:] = -2.0 * lam
    return solveh_banded(bands, w * np.where(known, y, 0.0))


def align_costs(cost: np.ndarray, fps_a: float, fps_b: float, settings: PathSettings = PathSettings()) -> Alignment:
    """Align A to B from their cost matrix (N, M) under the slope limit and open ends of `settings`; positions
    follow a smooth speed where the posterior is unsure (`smooth_warp`, over `settings.smooth_s` seconds).

    Frames of A that the path leaves out (lead-in or trailing footage B lacks) are given B's first or last frame,
    with `matched` near 0 and a confidence near 0. The confidence is calibrated (`apps.confidence`): one more soft
    sweep, at a higher temperature.
    """
    cost = np.asarray(cost, dtype=np.float64)
    check_finite("cost", cost)
    if settings.drop:
        return drop_alignment(cost, settings.skip)
    run = settings.max_run(fps_a, fps_b)
    ends = settings.open_ends
    soft = constrained_dtw(cost, run, settings.skip, ends, ends, gamma=settings.gamma)  # its .path is the hard one
    n, m = cost.shape
    (r0, c0), (r1, c1) = soft.path[0], soft.path[-1]
    rows = np.arange(n)
    hard_pos = np.where(rows < r0, float(c0), float(c1))  # rows left out: B's first frame before, last after
    hard_pos[r0:r1 + 1] = path_to_mapping(soft.path - [r0, 0], int(r1 - r0 + 1))
    position = np.where(np.isfinite(soft.position) & (soft.matched > 1e-3), soft.position, hard_pos)
    smooth = smooth_warp(soft.position, soft.spread, soft.matched, fps_a, settings.smooth_s)
    inside = (rows >= r0) & (rows <= r1)  # rows the path leaves out keep B's first or last frame
    position = np.clip(np.where(inside, smooth, position), 0, m - 1)
    span = ((int(r0), int(r1)), (int(c0), int(c1)))
    near = frame_near(cost, position, run, settings.skip, ends, fps_a, fps_b) if settings.calibrate else None
    return Alignment(cost=cost, path=soft.path, b_of_a=position, span=span, soft=True, matched=soft.matched,
                     confidence=None if near is None else calibrated_confidence(near, soft.matched),
                     certainty=frame_certainty(soft.matched, soft.spread, settings.spread_scale), near=near,
                     score=float(soft.value) / (n + m))


def drop_alignment(cost: np.ndarray, drop: float) -> Alignment:
    """A aligned to B by Drop-DTW (`gtalign.ops.drop_dtw_path`, Dvornik et al. 2021) on costs (N, M): every frame of
    either video is matched or dropped at cost `drop` (a pause, a stretch of background or of something else that
    the other video lacks, anywhere, not only at the ends).

    A matched frame of A lies at the mean of its matched frames of B, with `matched`, `confidence` and `certainty` 1
    (Drop-DTW has no posterior to read them from); a dropped one
    is placed between its matched neighbours (linearly; B's first or last matched frame beyond them), with 0.
    ``dropped`` holds the dropped frames of A and of B. The hard path has no slope limit: a run of frames may all be
    matched to one frame of the other video, as in plain DTW.
    """
    n, m = cost.shape
    found = drop_dtw_path(cost, drop_x=drop, drop_y=drop)
    if len(found.path) == 0:
        raise GtalignError(f"Drop-DTW dropped every frame (drop cost {drop:g} is below every match cost): the "
                           "videos have nothing in common at this cost")
    rows = np.unique(found.path[:, 0])
    columns = np.bincount(found.path[:, 0], weights=found.path[:, 1].astype(np.float64), minlength=n)
    counts = np.bincount(found.path[:, 0], minlength=n)
    position = np.interp(np.arange(n), rows, columns[rows] / counts[rows])
    matched = (counts > 0).astype(np.float64)
    span = ((int(rows[0]), int(rows[-1])), (int(found.path[:, 1].min()), int(found.path[:, 1].max())))
    return Alignment(cost=cost, path=found.path, b_of_a=position, span=span, soft=True, matched=matched,
                     confidence=matched.copy(), certainty=matched.copy(), score=found.score / (n + m),
                     dropped=(found.dropped_x, found.dropped_y))


def cycle_frames(alignment: Alignment, fps_a: float, fps_b: float,
                 settings: PathSettings = PathSettings()) -> float | None:
    """How far the alignment is from cycle-consistent: B is aligned to A on the same costs (transposed), each
    matched frame i of A (probability > 0.5) is sent to B and back, and the result is the mean of
    ``|back(b_of_a[i]) - i|``, in frames of the video with the lower frame rate (as the benchmark's errors are).
    None without a soft alignment (`align_costs`) or with nothing matched.

    A sure alignment comes back where it started; where A and B could be matched in several ways, the two
    directions choose differently. Measured on the real-footage benchmark (40 pairs), its rank correlation with the
    pair's true error was 0.50, against -0.18 for the mean confidence: a pointer to the pairs worth checking, not an
    error estimate (it is 0.2-1.6 frames where the errors are 0.5-7).
    """
    if alignment.matched is None:
        return None
    back = align_costs(np.ascontiguousarray(alignment.cost.T), fps_b, fps_a, replace(settings, calibrate=False))
    sent = np.isfinite(alignment.b_of_a) & (alignment.matched > 0.5)
    known = np.flatnonzero(np.isfinite(back.b_of_a))
    if not sent.any() or len(known) < 2:
        return None
    returned = np.interp(alignment.b_of_a[sent], known, back.b_of_a[known])
    return float(np.mean(np.abs(returned - np.flatnonzero(sent)))) * min(fps_a, fps_b) / fps_a


def embedding_alignment(emb_a: np.ndarray, emb_b: np.ndarray, fps_a: float, fps_b: float,
                        settings: PathSettings = PathSettings()) -> Alignment:
    """`align_costs` on embeddings (N, D), (M, D): squared Euclidean costs divided by their median (the unit the
    path settings' skip cost is in)."""
    cost = cost_matrix(emb_a, emb_b)
    return align_costs(cost / max(float(np.median(cost)), 1e-12), fps_a, fps_b, settings)
