"""Synchronising cameras of one event: a clock per camera, ``t_cam = offset_s + rate * t_ref``.

Times are seconds from the start of each file; ``t_ref`` and ``t_cam`` show the same instant. Steps:

1. Every pair of cameras (a, b) is aligned by the feature streams (`gtalign.apps.align.align_features`): each frame
   of a gets a sub-frame position on b and a certainty (the posterior's own: `apps.alignment.frame_certainty`).
2. A clock ``t_b = offset + rate * t_a`` is found from two candidates (`pair_clock`): a robust line fit to the
   path's positions (`fit_clock`: Tukey's biweight on the residual in frames of b, weighted by the certainty),
   and the constant offset whose line through the whole cost matrix costs least (`search_offset`, which also says
   how much that line stands out). The cheaper line is kept and moved to the sub-frame offset with the lowest mean
   cost along it (`refine_clock`). Drift (``rate != 1``) comes from the path fit and is kept only where it is
   significant (more than three standard errors from 1, over at least `MIN_DRIFT_SPAN_S` of overlap); on short
   overlaps it cannot be told from noise and the rate stays 1.
3. The pairwise clocks are combined into one clock per camera against the reference (`solve_clocks`): log-rates
   and then offsets by weighted least squares over all pairs, iterated with pairs far from the joint solution
   down-weighted, so one bad pair cannot spoil a camera. Each triple's cycle residual (the clock a -> b -> c
   against a -> c) is reported.
4. A camera whose pairs found no clear clock (too few frames on the line: no overlap, or not the same event) is
   ``"unreliable"`` with no offset; the others get a confidence in [0, 1] from how clear their clock lines are,
   their offset's standard error and how well their pairs agree (`camera_confidence`), and are ``"ok"`` when it
   is at least `OK_CONFIDENCE`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from gtalign.apps.alignment import Alignment
from gtalign.errors import GtalignError

#: A residual (in frames of the camera) at which Tukey's biweight gives a frame no weight.
TUKEY_FRAMES = 4.0
#: A frame lies on the clock line when its residual is within this many frames.
INLIER_FRAMES = 2.0
#: Least frames on the line, and least share of the matched frames, for a pair to give a clock.
MIN_INLIERS = 10
MIN_INLIER_SHARE = 0.4
#: Drift is estimated only over at least this many seconds of overlap, and never beyond MAX_DRIFT (camera clocks
#: and nominal frame rates differ by far less than 1%).
MIN_DRIFT_SPAN_S = 5.0
MAX_DRIFT = 0.02
#: Least share of the shorter video that a searched offset must keep overlapping, and the half-width (seconds) of
#: the cost valley around the best offset that is not counted as another candidate.
MIN_OVERLAP = 0.3
VALLEY_S = 0.25
#: A searched offset is a clock when its line's contrast (`search_offset`) is at least this.
MIN_CONTRAST = 0.3
#: Frames over which the alignment's errors are correlated (for standard errors).
CORRELATED_FRAMES = 5.0
#: The estimated error (frames) at which a camera's confidence is 1/e.
CONFIDENCE_SCALE_FRAMES = 1.2
#: Confidence from which a camera is "ok" (calibrated on benchmarks/sync_real.py: of 18 cameras, the two more than
#: 2 frames off had 0.67, every camera within 1 frame had more than 0.68).
OK_CONFIDENCE = 0.7


@dataclass(frozen=True)
class Clock:
    """``t_b = offset_s + rate * t_a`` (seconds from the start of each file)."""

    offset_s: float
    rate: float

    def __call__(self, t: np.ndarray | float) -> np.ndarray | float:
        return self.offset_s + self.rate * t

    def then(self, other: "Clock") -> "Clock":
        """This clock followed by `other` (a -> b, then b -> c gives a -> c)."""
        return Clock(other.offset_s + other.rate * self.offset_s, other.rate * self.rate)


@dataclass
class PairClock:
    """The clock of camera b against camera a, fitted on their alignment."""

    a: int
    b: int
    clock: Clock | None          # None: no clear clock (see `fit_clock`)
    inliers: int                 # frames of a on the line
    matched: int                 # frames of a matched at all
    residual_frames: float       # RMS residual of the inliers, in frames of b
    span_s: tuple[float, float]  # the inliers' first and last time on a
    rate_stderr: float
    reason: str = ""
    t_a: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)       # (K,) matched frames' times
    residual: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # (K,) frames of b off the line
    distinct: float = 0.0        # how far the clock's line stands out in the cost matrix (`search_offset`)
    streams: list[str] = field(default_factory=list)  # what was compared (`apps.align.FeaturePair.streams`)
    people: tuple[int, int] | None = None             # (person of a, person of b); None: whole frames

    def fitted(self) -> Clock:
        """`clock`, for a pair that has one (a GtalignError naming the pair and why it has none otherwise)."""
        if self.clock is None:
            raise GtalignError(f"cameras {self.a} and {self.b} have no clock: {self.reason}")
        return self.clock

    @property
    def share(self) -> float:
        """Share of the matched frames that lie on the clock line."""
        return self.inliers / self.matched if self.matched else 0.0

    def offset_stderr_s(self, fps_b: float) -> float:
        """Standard error of the offset (seconds): RMS residual over the square root of the number of independent
        frames on the line (alignment errors of neighbouring frames are correlated over about `CORRELATED_FRAMES`),
        at least a tenth of a frame of b."""
        if self.clock is None or self.inliers == 0:
            return float("inf")
        independent = max(self.inliers / CORRELATED_FRAMES, 1.0)
        return max(self.residual_frames / np.sqrt(independent), 0.1) / fps_b

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "offset_s": None if self.clock is None else self.clock.offset_s,
                "rate": None if self.clock is None else self.clock.rate, "inliers": self.inliers,
                "matched": self.matched, "residual_frames": self.residual_frames, "span_s": list(self.span_s),
                "rate_stderr": self.rate_stderr, "share": self.share, "contrast": self.distinct,
                "reason": self.reason, "streams": list(self.streams),
                "people": None if self.people is None else list(self.people)}


def _weighted_line(x: np.ndarray, y: np.ndarray, w: np.ndarray, fixed_rate: float | None) -> tuple[float, float]:
    """Weighted least-squares (offset, rate) of y = offset + rate x; only the offset when `fixed_rate` is given."""
    sw = w.sum()
    mx, my = (w * x).sum() / sw, (w * y).sum() / sw
    if fixed_rate is not None:
        return my - fixed_rate * mx, fixed_rate
    sxx = (w * (x - mx) ** 2).sum()
    rate = (w * (x - mx) * (y - my)).sum() / sxx if sxx > 0 else 1.0
    return my - rate * mx, rate


def fit_clock(t_a: np.ndarray, t_b: np.ndarray, weight: np.ndarray, fps_b: float, a: int = 0, b: int = 1,
              iterations: int = 20) -> PairClock:
    """Fit ``t_b = offset + rate * t_a`` robustly to matched frames (times (K,) in seconds, weights (K,) >= 0).

    Starts from rate 1 and the weighted median offset, then iterates weighted least squares with Tukey's biweight
    (`TUKEY_FRAMES`) on the residuals in frames of b. The rate is kept only when it is more than three standard
    errors from 1 over at least `MIN_DRIFT_SPAN_S` seconds, and within `MAX_DRIFT` of 1. No clock
    (``clock=None``) when fewer than `MIN_INLIERS` frames, or less than `MIN_INLIER_SHARE` of them, lie within
    `INLIER_FRAMES` of the line.
    """
    t_a, t_b, weight = (np.asarray(v, dtype=np.float64) for v in (t_a, t_b, weight))
    ok = np.isfinite(t_a) & np.isfinite(t_b) & (weight > 0)
    t_a, t_b, weight = t_a[ok], t_b[ok], weight[ok]
    k = len(t_a)
    if k < MIN_INLIERS:
        return PairClock(a, b, None, 0, k, float("inf"), (0.0, 0.0), float("inf"),
                         f"only {k} frames matched (at least {MIN_INLIERS} needed): no overlap found", t_a,
                         np.full(k, np.nan))
    order = np.argsort(t_b - t_a)
    cum = np.cumsum(weight[order])
    offset, rate = float((t_b - t_a)[order][np.searchsorted(cum, cum[-1] / 2)]), 1.0
    w = weight
    stderr = float("inf")
    for _ in range(iterations):
        r = (t_b - (offset + rate * t_a)) * fps_b
        w = weight * np.clip(1 - (r / TUKEY_FRAMES) ** 2, 0, None) ** 2
        if w.sum() <= 0:
            break
        o_free, r_free = _weighted_line(t_a, t_b, w, None)
        # standard error of the rate: residual spread / (spread of t_a) / sqrt(effective count)
        res = (t_b - (o_free + r_free * t_a))
        n_eff = w.sum() ** 2 / max((w ** 2).sum(), 1e-300) / CORRELATED_FRAMES  # neighbours' errors correlate
        mx = (w * t_a).sum() / w.sum()
        sx = np.sqrt((w * (t_a - mx) ** 2).sum() / w.sum())
        sigma = np.sqrt((w * res ** 2).sum() / w.sum())
        stderr = float(sigma / max(sx, 1e-12) / np.sqrt(max(n_eff - 2, 1.0)))
        spread = float(np.ptp(t_a[w > 0])) if (w > 0).any() else 0.0
        if abs(r_free - 1) > 3 * stderr and spread >= MIN_DRIFT_SPAN_S:
            new = _weighted_line(t_a, t_b, w, float(np.clip(r_free, 1 - MAX_DRIFT, 1 + MAX_DRIFT)))
        else:
            new = _weighted_line(t_a, t_b, w, 1.0)
        if abs(new[0] - offset) * fps_b < 1e-6 and abs(new[1] - rate) < 1e-9:
            offset, rate = new
            break
        offset, rate = new
    r = (t_b - (offset + rate * t_a)) * fps_b
    inlier = np.abs(r) <= INLIER_FRAMES
    n_in = int(inlier.sum())
    rms = float(np.sqrt(np.mean(r[inlier] ** 2))) if n_in else float("inf")
    span = (float(t_a[inlier].min()), float(t_a[inlier].max())) if n_in else (0.0, 0.0)
    reason = ""
    if n_in < MIN_INLIERS or n_in < MIN_INLIER_SHARE * k:
        reason = (f"only {n_in} of {k} matched frames lie within {INLIER_FRAMES:g} frames of one clock line: "
                  "no consistent overlap")
    return PairClock(a, b, None if reason else Clock(float(offset), float(rate)), n_in, k, rms, span, stderr, reason,
                     t_a, r)


def line_cost(cost: np.ndarray, fps_a: float, fps_b: float, clock: Clock, rows: np.ndarray) -> float:
    """Mean cost along the clock line: rows `rows` of A against B's fractional frame that `clock` puts there, the
    cost read off a parabola through the three nearest columns (exact where the cost is quadratic about its
    minimum, so no bias towards whole frames); rows whose frame falls outside B are left out (inf if all are)."""
    m = cost.shape[1]
    col = np.asarray(clock(rows / fps_a)) * fps_b
    inside = (col >= 0) & (col <= m - 1)
    if not inside.any():
        return float("inf")
    r, c = rows[inside], col[inside]
    if m < 3:
        return float(cost[r, np.rint(c).astype(np.int64)].mean())
    j = np.clip(np.rint(c).astype(np.int64), 1, m - 2)
    u = c - j
    lo, mid, hi = cost[r, j - 1], cost[r, j], cost[r, j + 1]
    return float((mid + u * (hi - lo) / 2 + u ** 2 * (hi - 2 * mid + lo) / 2).mean())


def refine_clock(cost: np.ndarray, fps_a: float, fps_b: float, fit: PairClock, search_frames: float = 3.0,
                 step_frames: float = 0.1) -> PairClock:
    """The pair's clock moved to the offset (within +-`search_frames` frames of b, keeping its rate) with the lowest
    mean cost along the line over the rows the fit used: the whole cost matrix votes, not only the path."""
    if fit.clock is None:
        return fit
    rows = np.unique(np.clip(np.rint(fit.t_a * fps_a).astype(np.int64), 0, cost.shape[0] - 1))
    shifts = np.arange(-search_frames, search_frames + 1e-9, step_frames) / fps_b
    costs = [line_cost(cost, fps_a, fps_b, Clock(fit.clock.offset_s + d, fit.clock.rate), rows) for d in shifts]
    k = int(np.argmin(costs))
    if 0 < k < len(costs) - 1 and np.all(np.isfinite(costs[k - 1:k + 2])):  # parabola through the three lowest
        y0, y1, y2 = costs[k - 1:k + 2]
        den = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / den if den > 0 else 0.0
    else:
        frac = 0.0
    offset = fit.clock.offset_s + shifts[k] + frac * step_frames / fps_b
    moved = (offset - fit.clock.offset_s) * fps_b
    return PairClock(fit.a, fit.b, Clock(float(offset), fit.clock.rate), fit.inliers, fit.matched,
                     fit.residual_frames, fit.span_s, fit.rate_stderr, fit.reason, fit.t_a, fit.residual - moved)


def search_offset(cost: np.ndarray, fps_a: float, fps_b: float, step_frames: float = 0.5) -> tuple[float, float]:
    """The constant offset (seconds, rate 1) whose line through the whole cost matrix (N, M) costs least on
    average, over every offset that keeps at least `MIN_OVERLAP` of the shorter video overlapping, and how much it
    stands out: (offset_s, contrast), contrast being 1 - (the best line's cost) / (the median cost of the lines
    more than `VALLEY_S` away from it): near 0 when no offset is special, towards 1 for a clear valley. A
    repetitive motion gives several low lines; the contrast still says how well the best one matches."""
    n, m = cost.shape
    rows = np.arange(n)
    t_a = rows / fps_a
    least = max(MIN_INLIERS, int(MIN_OVERLAP * min(n, m * fps_a / fps_b)))
    offsets = np.arange(-n / fps_a, m / fps_b, step_frames / fps_b)
    costs = np.full(len(offsets), np.inf)
    for k, o in enumerate(offsets):
        col = (o + t_a) * fps_b
        inside = (col >= 0) & (col <= m - 1)
        if inside.sum() >= least:
            costs[k] = line_cost(cost, fps_a, fps_b, Clock(float(o), 1.0), rows[inside])
    if not np.isfinite(costs).any():
        return 0.0, 0.0
    k = int(np.argmin(costs))
    far = np.isfinite(costs) & (np.abs(offsets - offsets[k]) > max(VALLEY_S, 5 / fps_b))
    if far.sum() < 5:
        return float(offsets[k]), 0.0
    med = float(np.median(costs[far]))
    return float(offsets[k]), float(1.0 - costs[k] / med) if med > 0 else 0.0


def _overlap_rows(clock: Clock, n: int, m: int, fps_a: float, fps_b: float) -> np.ndarray:
    rows = np.arange(n)
    col = clock(rows / fps_a) * fps_b
    return rows[(col >= 0) & (col <= m - 1)]


def pair_clock(alignment: Alignment, fps_a: float, fps_b: float, a: int = 0, b: int = 1) -> PairClock:
    """The clock of b against a from their alignment (`align_costs`, with its cost matrix).

    Two candidates: `fit_clock` on the path (frames of a matched with probability > 0.5, weighted by their
    certainty, `frame_certainty`) and `search_offset` over the whole cost matrix. The one whose line costs less is
    kept, refined to a sub-frame offset (`refine_clock`), with the path's drift where the path agrees with it. There
    is a clock when the path fit found one or the searched line stands out (contrast >= `MIN_CONTRAST`); the path's
    frames within `INLIER_FRAMES` of the line are its inliers.
    """
    if alignment.certainty is None or alignment.matched is None:
        raise GtalignError("pair_clock needs an alignment from align_costs (with matched and certainty)")
    cost = alignment.cost
    n, m = cost.shape
    rows = np.flatnonzero(alignment.matched > 0.5)
    t_a, t_b = rows / fps_a, alignment.b_of_a[rows] / fps_b
    fit = fit_clock(t_a, t_b, alignment.certainty[rows] + 1e-3, fps_b, a, b)
    offset, contrast = search_offset(cost, fps_a, fps_b)
    candidates = [Clock(offset, 1.0)] + ([fit.clock] if fit.clock is not None else [])
    scored = [(line_cost(cost, fps_a, fps_b, c, _overlap_rows(c, n, m, fps_a, fps_b)), c) for c in candidates]
    clock = min(scored, key=lambda sc: sc[0])[1]
    if fit.clock is None and contrast < MIN_CONTRAST:
        return dataclasses.replace(fit, distinct=contrast, reason=f"{fit.reason}; and no offset stands out in the "
                                                                  f"cost matrix (contrast {contrast:.2f} < "
                                                                  f"{MIN_CONTRAST:g})")
    overlap = _overlap_rows(clock, n, m, fps_a, fps_b)
    if len(overlap) < MIN_INLIERS:
        return dataclasses.replace(fit, clock=None, distinct=contrast, reason="the clock leaves too little overlap")
    seed = PairClock(a, b, clock, 0, len(rows), 0.0, (0.0, 0.0), fit.rate_stderr, "", overlap / fps_a,
                     np.zeros(len(overlap)))
    clock = refine_clock(cost, fps_a, fps_b, seed).fitted()
    if fit.clock is not None and clock.rate == 1.0 and fit.clock.rate != 1.0:
        mid = float(np.mean(fit.span_s))
        if abs(fit.clock(mid) - clock(mid)) * fps_b <= INLIER_FRAMES:  # the path's drift, through the refined point
            clock = Clock(float(clock(mid) - fit.clock.rate * mid), fit.clock.rate)
    residual = (t_b - clock(t_a)) * fps_b
    inlier = np.abs(residual) <= INLIER_FRAMES
    n_in = int(inlier.sum())
    rms = float(np.sqrt(np.mean(residual[inlier] ** 2))) if n_in >= MIN_INLIERS else INLIER_FRAMES
    span = (float(t_a[inlier].min()), float(t_a[inlier].max())) if n_in else (float(overlap[0] / fps_a),
                                                                               float(overlap[-1] / fps_a))
    return PairClock(a, b, clock, max(n_in, MIN_INLIERS), len(rows), rms, span, fit.rate_stderr, "", t_a, residual,
                     distinct=contrast)


@dataclass
class CameraClock:
    """One camera's clock against the reference, or None where it could not be synchronised."""

    index: int
    clock: Clock | None
    confidence: float
    status: str                   # "ok" or "unreliable"
    pairs_used: int
    residual_frames: float        # weighted RMS disagreement of its pairs with the joint solution (frames)
    reason: str = ""
    error_frames: float = 0.0     # estimated error of its clock (frames of this camera), see `camera_confidence`


@dataclass
class SyncResult:
    """Every camera's clock against the reference, the pairwise clocks they came from, and three-camera checks."""

    reference: int
    cameras: list[CameraClock]
    pairs: list[PairClock]
    triples: list[dict[str, Any]] = field(default_factory=list)


def _pair_residual_frames(p: PairClock, clocks: dict[int, Clock], fps: list[float]) -> float:
    """How far (frames of b) the joint clocks put b from where the pair's clock does, at the ends of its span."""
    ca, cb = clocks[p.a], clocks[p.b]
    worst = 0.0
    for t_a in p.span_s:
        t_ref = (t_a - ca.offset_s) / ca.rate
        worst = max(worst, abs(cb(t_ref) - p.fitted()(t_a)) * fps[p.b])
    return worst


def solve_clocks(pairs: list[PairClock], n: int, reference: int, fps: list[float],
                 iterations: int = 10) -> tuple[dict[int, Clock], dict[int, float], dict[int, float]]:
    """Joint clocks of the cameras reachable from `reference` through pairs with a clock.

    Returns ({camera: Clock}, {pair index: final weight}, {camera: standard error of its offset in seconds}).
    Pairs are weighted by 1 / their offset's variance, and down-weighted by Tukey's biweight on how far (frames)
    the joint solution puts them from their own clock.
    """
    usable = [k for k, p in enumerate(pairs) if p.clock is not None]
    reach = {reference}
    grew = True
    while grew:
        grew = False
        for k in usable:
            p = pairs[k]
            if (p.a in reach) != (p.b in reach):
                reach |= {p.a, p.b}
                grew = True
    cams = sorted(reach - {reference})
    col = {c: i for i, c in enumerate(cams)}
    base = {k: 1.0 / pairs[k].offset_stderr_s(fps[pairs[k].b]) ** 2 for k in usable
            if pairs[k].a in reach and pairs[k].b in reach}
    weights = dict(base)
    clocks = {reference: Clock(0.0, 1.0)}
    stderr: dict[int, float] = {reference: 0.0}

    def system(ks: list[int], rate: dict[int, float] | None) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the least-squares system over pairs `ks`: log-rates (rate None) or offsets."""
        a_mat = np.zeros((len(ks), len(cams)))
        rhs = np.zeros(len(ks))
        for row, k in enumerate(ks):
            p = pairs[k]
            rhs[row] = np.log(p.fitted().rate) if rate is None else p.fitted().offset_s
            if p.b != reference:
                a_mat[row, col[p.b]] += 1
            if p.a != reference:
                a_mat[row, col[p.a]] -= 1 if rate is None else rate[p.b] / rate[p.a]
        return a_mat, rhs

    for _ in range(iterations):
        ks = [k for k in weights if weights[k] > 0]
        if not cams or not ks:
            break
        w = np.sqrt(np.array([weights[k] for k in ks]))
        a_mat, rhs = system(ks, None)
        log_r = np.linalg.lstsq(a_mat * w[:, None], rhs * w, rcond=None)[0]
        rate = {reference: 1.0} | {c: float(np.exp(log_r[col[c]])) for c in cams}
        a_mat, rhs = system(ks, rate)
        aw = a_mat * w[:, None]
        off = np.linalg.lstsq(aw, rhs * w, rcond=None)[0]
        cov = np.linalg.pinv(aw.T @ aw)
        clocks = {reference: Clock(0.0, 1.0)} | {c: Clock(float(off[col[c]]), rate[c]) for c in cams}
        stderr = {reference: 0.0} | {c: float(np.sqrt(max(cov[col[c], col[c]], 0.0))) for c in cams}
        new = {k: base[k] * max(0.0, 1 - (_pair_residual_frames(pairs[k], clocks, fps) / TUKEY_FRAMES) ** 2) ** 2
               for k in base}
        if all(abs(new[k] - weights[k]) <= 1e-9 * base[k] for k in base):
            break
        weights = new
    return clocks, weights, stderr


def camera_confidence(index: int, pairs: list[PairClock], weights: dict[int, float], clocks: dict[int, Clock],
                      stderr_s: float, fps: list[float]) -> tuple[float, float, int, float]:
    """(confidence, disagreement in frames, pairs used, estimated error in frames) of camera `index`.

    The camera's estimated error (frames) combines its offset's standard error from the joint solve and the RMS
    disagreement between the joint solution and its own pairs (which only more than two cameras can show); the
    confidence is ``clear * exp(-(error / CONFIDENCE_SCALE_FRAMES)^2)``, clear being, over its pairs, the best of
    the share of matched frames on the clock line and ``min(1, contrast / (2 MIN_CONTRAST))`` for how far the line
    stands out in the cost matrix.
    """
    used, num, den, share = 0, 0.0, 0.0, 0.0
    for k, p in enumerate(pairs):
        if index not in (p.a, p.b) or weights.get(k, 0.0) <= 0:
            continue
        used += 1
        d = _pair_residual_frames(p, clocks, fps)
        num, den = num + weights[k] * d ** 2, den + weights[k]
        share = max(share, p.share, min(1.0, max(p.distinct, 0.0) / (2 * MIN_CONTRAST)))
    disagreement = float(np.sqrt(num / den)) if den > 0 else float("inf")
    error = float(np.hypot(stderr_s * fps[index], disagreement))
    return float(share * np.exp(-(error / CONFIDENCE_SCALE_FRAMES) ** 2)), disagreement, used, error


def sync_from_pairs(pairs: list[PairClock], n: int, reference: int, fps: list[float]) -> SyncResult:
    """Joint clocks, confidences and statuses of `n` cameras from their pairwise clocks."""
    if not 0 <= reference < n:
        raise GtalignError(f"reference camera {reference} is not one of the {n} cameras")
    clocks, weights, stderr = solve_clocks(pairs, n, reference, fps)
    cameras = []
    for c in range(n):
        if c == reference:
            cameras.append(CameraClock(c, Clock(0.0, 1.0), 1.0, "ok", sum(1 for p in pairs if c in (p.a, p.b)), 0.0))
            continue
        if c not in clocks:
            reasons = [p.reason for p in pairs if c in (p.a, p.b) and p.reason]
            cameras.append(CameraClock(c, None, 0.0, "unreliable", 0, float("inf"),
                                       "no pair with this camera found a clock" +
                                       (f" ({reasons[0]})" if reasons else ""), float("inf")))
            continue
        conf, resid, used, error = camera_confidence(c, pairs, weights, clocks, stderr[c], fps)
        status = "ok" if conf >= OK_CONFIDENCE else "unreliable"
        reason = "" if status == "ok" else (f"confidence {conf:.2f} below {OK_CONFIDENCE}: few frames on the clock "
                                            "line or pairs that disagree")
        cameras.append(CameraClock(c, clocks[c], conf, status, used, resid, reason, error))
    triples = []
    by_pair = {(p.a, p.b): p for p in pairs if p.clock is not None}
    for a, b, c in combinations(range(n), 3):
        if (a, b) in by_pair and (b, c) in by_pair and (a, c) in by_pair:
            ab, bc, ac = by_pair[(a, b)], by_pair[(b, c)], by_pair[(a, c)]
            t = float(np.mean(ac.span_s))
            through = ab.fitted().then(bc.fitted())
            triples.append({"cameras": [a, b, c], "cycle_residual_frames": abs(through(t) - ac.fitted()(t)) * fps[c]})
    return SyncResult(reference, cameras, pairs, triples)


def sync_json(result: SyncResult, names: list[str], fps: list[float], durations: list[float]) -> dict[str, Any]:
    """The ``sync.json`` object: reference and one entry per camera (``video``, ``offset_s``, ``rate``,
    ``confidence``, ``status``, and more)."""
    cams = []
    for cam in result.cameras:
        entry: dict[str, Any] = {
            "video": names[cam.index], "offset_s": None if cam.clock is None else cam.clock.offset_s,
            "rate": None if cam.clock is None else cam.clock.rate, "confidence": round(cam.confidence, 4),
            "status": cam.status}
        entry |= {"offset_frames": None if cam.clock is None else cam.clock.offset_s * fps[cam.index],
                  "fps": fps[cam.index], "duration_s": durations[cam.index], "pairs_used": cam.pairs_used,
                  "residual_frames": None if not np.isfinite(cam.residual_frames) else cam.residual_frames,
                  "error_frames": None if not np.isfinite(cam.error_frames) else cam.error_frames}
        if cam.reason:
            entry["reason"] = cam.reason
        cams.append(entry)
    return {"reference": names[result.reference], "cameras": cams,
            "pairs": [p.to_json() | {"a": names[p.a], "b": names[p.b]} for p in result.pairs],
            "triples": [t | {"cameras": [names[c] for c in t["cameras"]]} for t in result.triples]}
