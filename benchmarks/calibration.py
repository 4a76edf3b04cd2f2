"""How well a per-frame confidence says which frames are right: ROC area, reliability bins, and the logistic (Platt)
scaling that `gtalign.apps.confidence` ships, refitted and checked by leaving out one clip at a time.

Used by `align_real.py`; the numbers go to docs/results.md.
"""
from __future__ import annotations

import numpy as np

from gtalign.apps.confidence import logit, platt

#: Reliability bins of the confidence (lower edges; the last bin closed at 1).
BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """The area under the ROC curve of `score` (n,) for the boolean labels `positive` (n,): the chance that a random
    positive scores above a random negative, ties counting half (the Mann-Whitney U over the product of the counts);
    nan when either class is empty."""
    from scipy.stats import rankdata

    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fit_platt(near: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """(a, b) maximising the likelihood of P(positive) = sigmoid(a + b * logit(near)), unregularised (Newton's
    method on the two-parameter log-loss, which is convex)."""
    x = np.stack([np.ones(len(near)), logit(near)], axis=1)
    y = positive.astype(np.float64)
    w = np.zeros(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y)
        hess = x.T @ (x * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


def reliability(confidence: np.ndarray, positive: np.ndarray) -> list[tuple[str, int, float, float]]:
    """Per bin of `BINS`: (range, frames, mean confidence, share positive); empty bins left out."""
    edges = list(BINS) + [1.0 + 1e-12]
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence >= lo) & (confidence < hi)
        if inside.any():
            rows.append((f"{lo:.2f}-{min(hi, 1.0):.2f}", int(inside.sum()), float(confidence[inside].mean()),
                         float(positive[inside].mean())))
    return rows


def calibration_error(confidence: np.ndarray, positive: np.ndarray) -> float:
    """Expected calibration error over `BINS`: sum over bins of (share of frames) * |mean confidence - share
    positive|."""
    return float(sum(n * abs(c - p) for _, n, c, p in reliability(confidence, positive)) / max(len(confidence), 1))


def left_out(near: np.ndarray, positive: np.ndarray, group: np.ndarray) -> np.ndarray:
    """(n,) confidences of each group's frames from the Platt scaling fitted on the other groups' frames."""
    out = np.zeros(len(near))
    for g in np.unique(group):
        test = group == g
        out[test] = platt(near[test], fit_platt(near[~test], positive[~test]))
    return out
