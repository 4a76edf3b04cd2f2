"""A calibrated per-frame confidence: the probability that a frame's position on B is within a few frames of the
truth.

The posterior that gives the sub-frame positions (temperature `PathSettings.gamma`, 0.05) is sharp everywhere,
right or wrong, so its spread says little about the error. At a higher temperature (`CONFIDENCE_GAMMA`) the
posterior spreads over every path that costs nearly as much as the best one. Where the videos could be matched
in another way almost as cheaply, little of it stays near the chosen position. So the signal is

    near_i = (posterior mass of row i within `TOLERANCE_FRAMES` of position_i) / (posterior mass of row i)

with the tolerance in frames of the video with the lower frame rate (as the benchmark counts errors).
Logistic (Platt) scaling turns it into a probability, and the probability that the frame has a counterpart at all
multiplies it:

    confidence_i = matched_i * sigmoid(PLATT[0] + PLATT[1] * logit(near_i)).

The mean over the matched frames (`Alignment.overall_confidence`) is then the expected share of them within the
tolerance.

`PLATT` and `CONFIDENCE_GAMMA` were fitted on the real-footage benchmark (`benchmarks/align_real.py`, default
features, contextual costs): the temperature that separated right from wrong frames best, and the two numbers by
logistic regression of "within 3 frames" on logit(near). The benchmark refits them in every run and reports how
well the shipped ones do, left out one clip at a time (docs/results.md). On costs of another kind (per-frame
arrays, a trained checkpoint's embeddings) the same numbers are used but have not been checked.
"""
from __future__ import annotations

import numpy as np

from gtalign.ops.constrained import constrained_posterior

#: Temperature of the posterior the confidence reads (in units of the pair's typical cost).
CONFIDENCE_GAMMA = 0.5
#: The confidence is the probability of an error of at most this many frames (of the slower video).
TOLERANCE_FRAMES = 3.0
#: (intercept, slope) of the logistic scaling of logit(near), fitted on the real-footage benchmark.
PLATT = (0.868, 0.322)
#: near is clipped to [NEAR_EPS, 1 - NEAR_EPS] before its logit.
NEAR_EPS = 1e-4


def mass_near(posterior: np.ndarray, position: np.ndarray, half_width: float) -> np.ndarray:
    """(N,) share of each row's posterior (N, M) within `half_width` columns of `position` (N,) (both ends
    included); 0 for a row without mass or a NaN position."""
    n, m = posterior.shape
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(posterior, axis=1)], axis=1)  # (N, M + 1)
    centre = np.where(np.isfinite(position), position, -np.inf)
    lo = np.clip(np.ceil(centre - half_width - 1e-9), 0, m).astype(np.int64)
    hi = np.clip(np.floor(centre + half_width + 1e-9) + 1, 0, m).astype(np.int64)
    hi = np.maximum(hi, lo)
    rows = np.arange(n)
    inside = cumulative[rows, hi] - cumulative[rows, lo]
    total = cumulative[:, -1]
    return np.where(total > 0, inside / np.where(total > 0, total, 1.0), 0.0)


def logit(near: np.ndarray) -> np.ndarray:
    """(N,) log(q / (1 - q)) of near (N,) clipped to [NEAR_EPS, 1 - NEAR_EPS]."""
    q = np.clip(near, NEAR_EPS, 1.0 - NEAR_EPS)
    return np.log(q / (1.0 - q))


def platt(near: np.ndarray, coefficients: tuple[float, float] = PLATT) -> np.ndarray:
    """(N,) sigmoid(a + b * logit(near)) for near (N,) in [0, 1]."""
    return 1.0 / (1.0 + np.exp(-(coefficients[0] + coefficients[1] * logit(near))))


def frame_near(cost: np.ndarray, position: np.ndarray, max_run: tuple[int, int], skip: float, open_ends: bool,
               fps_a: float, fps_b: float, gamma: float = CONFIDENCE_GAMMA) -> np.ndarray:
    """(N,) `near` of the module docstring for positions (N,) on B found on costs (N, M) with this path's slope limit
    and ends (`gamma`: the posterior's temperature)."""
    posterior, _ = constrained_posterior(cost, max_run, skip, open_ends, open_ends, gamma=gamma)
    half_width = TOLERANCE_FRAMES * fps_b / min(fps_a, fps_b)  # in frames of B
    return mass_near(posterior, position, half_width)


def calibrated_confidence(near: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """(N,) in [0, 1]: matched * the Platt-scaled near (module docstring)."""
    return np.clip(matched, 0.0, 1.0) * platt(near)
