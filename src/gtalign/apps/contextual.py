"""Contextual costs: a pair's frame costs made comparable across frames before the path is found.

Some frames are far from every frame of the other video (motion blur, a person half out of view, a viewpoint where
the pose is hard to read) and some are close to all of them (a still background, a person standing). On raw costs
the first kind pull the path nowhere and the second attract it everywhere (hubs). Dividing each cost by the typical
cost of its row and of its column (the contextual dissimilarity of Jegou et al., CVPR 2007, with the whole row and
column as the neighbourhood) asks instead "is this frame of B closer to frame i of A than B's frames usually are,
and than frame j is to A's frames?".

On the real-footage benchmark (`benchmarks/align_real.py`, 40 pairs) this took the default features from 2.77 to
2.47 frames of mean error (71% to 76% within 3 frames), better on each of its three kinds of pairs. Taking the square
root as well (distances instead of squared distances) gave 2.37 at the default skip cost but fell apart 10% below
it (skip 0.9: 3.46 frames, 0.85: 12.0), because it brings every cost close to the median that the skip cost is
measured against; without it the error stays within 2.45-2.79 frames for skip costs 0.85-1.1 (docs/results.md).
`gtalign align` uses it; `gtalign sync` does not (`apps.align.align_features`' `contextual`).
"""
from __future__ import annotations

import numpy as np

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe

#: Costs below this (relative to the largest) count as zero when a row or column is normalised.
TINY = 1e-12


def contextual_cost(cost: np.ndarray) -> np.ndarray:
    """``C_ij / sqrt(r_i c_j)`` divided by its median, (N, M) float64, for costs `cost` (N, M) >= 0, with ``r_i``
    the mean of row i and ``c_j`` the mean of column j.

    The result is scaled to a median of 1 (the unit of `apps.alignment.PathSettings`' skip cost). A row or column
    of zeros (a frame equal to every frame of the other video) stays zero.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.size == 0:
        raise GtalignError(f"cost must be a non-empty matrix (N, M), got {describe(c)}")
    check_finite("cost", c)
    if float(c.min()) < -1e-9 * max(float(c.max()), TINY):
        raise GtalignError(f"cost must be >= 0 (squared distances), got a minimum of {float(c.min())!r}")
    c = np.maximum(c, 0.0)  # rounding in a squared distance may leave -1e-16
    top = float(c.max())
    if top == 0.0:
        return c
    c = c / top  # in units of the largest cost, so that scaling the costs changes nothing, however small they are
    scale = np.outer(np.sqrt(np.maximum(c.mean(axis=1), TINY)), np.sqrt(np.maximum(c.mean(axis=0), TINY)))
    d = c / scale
    median = float(np.median(d))
    return d / median if median > TINY else d
