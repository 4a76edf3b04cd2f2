"""A video's timeline: the ground-truth time warp from frame index to canonical time.

Canonical time u in [0, 1] is phase progress: phase p of P covers [p/P, (p+1)/P), and two videos of one
action show the same pose at the same u (up to their style). A video's warp is piecewise linear in time:
each phase has its own random speed, pauses hold u still for a while, the video may start a little after
u = 0 and end a little before u = 1, and may idle before starting and after finishing.

Two difficulties: `"easy"` (the original data: mild speeds, optional short idles) and `"hard"`, whose timing a
clock cannot predict: speeds 0.3x-3x per phase, one to three long holds, idles of different lengths before and
after almost every video, and sometimes a cut (a stretch of the action that the video skips).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from gtalign.registry import choices

DECIMALS = 6  # canonical times are stored (and rendered) rounded to this many decimals
SKIP_TIME = 1e-6  # the duration of a cut: the frames on either side of it are one frame apart


@dataclass
class Warp:
    """The random parameters of a time warp (durations are relative to an average phase's duration 1)."""

    phase_durations: list[float]          # (P,) time each phase would take if shown in full
    pauses: list[tuple[float, float]]     # (u where the figure holds still, duration)
    start: float                          # canonical time of the first frame
    end: float                            # canonical time of the last frame
    lead_in: float                        # idle duration before starting
    lead_out: float                       # idle duration after finishing
    skips: list[tuple[float, float]] = field(default_factory=list)  # (u where the video cuts, u skipped)

    def to_json(self) -> dict:
        out = {k: [list(p) for p in v] if k in ("pauses", "skips") else v for k, v in asdict(self).items()}
        if not out["skips"]:
            del out["skips"]  # so that the easy data keeps its manifests
        return out


Difficulty = Literal["easy", "hard"]
DIFFICULTIES: tuple[str, ...] = choices(Difficulty)


def sample_warp(num_phases: int, rng: np.random.Generator, difficulty: str = "easy") -> Warp:
    """Random speeds per phase, pauses, offsets and idle times (and, when hard, a cut); see the module docstring.

    easy: speeds log-normal (about x0.5 to x2), 0-2 pauses. Values are rounded to 4 decimals, so the warp stored in
    a manifest is exactly the one that was used.
    """
    def r(x: float) -> float:
        return round(float(x), 4)

    if difficulty == "hard":
        return _hard_warp(num_phases, rng, r)

    durations = [r(d) for d in np.exp(rng.normal(0.0, 0.35, num_phases))]
    start = r(rng.uniform(0.0, 0.3) / num_phases) if rng.random() < 0.5 else 0.0
    end = r(1.0 - rng.uniform(0.0, 0.3) / num_phases) if rng.random() < 0.5 else 1.0
    num_pauses = int(rng.choice(3, p=[0.5, 0.35, 0.15]))
    pauses = sorted((r(rng.uniform(start, end)), r(rng.uniform(0.2, 0.7))) for _ in range(num_pauses))
    lead_in = r(rng.uniform(0.1, 0.5)) if rng.random() < 0.4 else 0.0
    lead_out = r(rng.uniform(0.1, 0.5)) if rng.random() < 0.4 else 0.0
    return Warp(durations, pauses, start, end, lead_in, lead_out)


def _hard_warp(num_phases: int, rng: np.random.Generator, r) -> Warp:
    durations = [r(d) for d in np.clip(np.exp(rng.normal(0.0, 0.7, num_phases)), 0.3, 3.0)]
    start = r(rng.uniform(0.0, 0.3) / num_phases) if rng.random() < 0.5 else 0.0
    end = r(1.0 - rng.uniform(0.0, 0.3) / num_phases) if rng.random() < 0.5 else 1.0
    pauses = sorted((r(rng.uniform(start, end)), r(rng.uniform(0.3, 1.2))) for _ in range(int(rng.integers(1, 4))))
    lead_in = r(rng.uniform(0.3, 2.0)) if rng.random() < 0.85 else 0.0
    lead_out = r(rng.uniform(0.3, 2.0)) if rng.random() < 0.85 else 0.0
    skips = []
    if rng.random() < 0.4:
        width = rng.uniform(0.04, 0.1)
        at = rng.uniform(start + 0.1, end - 0.1 - width)
        if not any(at <= u <= at + width for u, _ in pauses):
            skips = [(r(at), r(width))]
    return Warp(durations, pauses, start, end, lead_in, lead_out, skips)


def warp_knots(warp: Warp) -> tuple[np.ndarray, np.ndarray]:
    """The warp as knots: times (K,) strictly increasing from 0 and canonical times (K,) non-decreasing."""
    num_phases = len(warp.phase_durations)
    skipped = {round(u, 6): round(u + width, 6) for u, width in warp.skips}
    cuts = sorted({warp.start, warp.end, *(p / num_phases for p in range(1, num_phases) if warp.start < p / num_phases
                                              < warp.end), *(u for u, _ in warp.pauses),
                   *(u for pair in skipped.items() for u in pair)})
    hold = {u: 0.0 for u in cuts}
    for u, duration in warp.pauses:
        hold[u] += duration
    hold[warp.start] += warp.lead_in
    hold[warp.end] += warp.lead_out
    times, us, t = [0.0], [cuts[0]], 0.0
    for k, u in enumerate(cuts):
        if hold[u] > 0:
            t += hold[u]
            times.append(t)
            us.append(u)
        if k + 1 < len(cuts):
            nxt = cuts[k + 1]
            phase = min(int((u + nxt) / 2 * num_phases), num_phases - 1)
            cut = any(a <= u and nxt <= b for a, b in skipped.items())
            t += SKIP_TIME if cut else (nxt - u) * num_phases * warp.phase_durations[phase]
            times.append(t)
            us.append(nxt)
    return np.asarray(times), np.asarray(us)


def canonical_times(warp: Warp, num_frames: int) -> np.ndarray:
    """Canonical time (num_frames,) of each frame: frames sample the warp evenly from its first to last knot."""
    times, us = warp_knots(warp)
    t = np.linspace(0.0, times[-1], num_frames) if num_frames > 1 else np.zeros(1)
    return np.round(np.interp(t, times, us), DECIMALS)
