"""Do two videos show the same process? The alignment cost against a null distribution.

If A and B show the same process, the order of B's frames matters: the DTW path through B in its true order is
much cheaper than through B with its frames shuffled in time. If they do not, order hardly helps. The test
compares the mean path cost of the real alignment with those of A aligned to `rounds` time-shuffled copies of B:
the videos count as the same process when the real cost lies at least `min_z` standard deviations below the
shuffled mean (a one-sided test; z >= 3 has a chance of about 1e-3 under a Gaussian null).

Measured with the ImageNet encoder on the synthetic actions (112 px): pairs of the same action gave z = 3.4 to 8.4
(cost ratio 0.82 to 0.96), pairs of different actions z = -6.5 to 0.6 (ratio 1.00 to 1.16).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from gtalign.ops import dtw_path

#: How many null standard deviations below the shuffled mean the real alignment must cost.
DEFAULT_MIN_Z = 3.0


@dataclass
class SamenessTest:
    """Whether two videos look like one process: the alignment's cost against time-shuffled alignments."""

    mean_cost: float       # mean cost per path step of the real alignment
    null_mean: float       # mean and standard deviation of the same for time-shuffled B
    null_std: float
    ratio: float           # mean_cost / null_mean (near 1: order does not help; small: clearly the same process)
    z: float               # (null_mean - mean_cost) / null_std
    same_process: bool
    min_z: float

    def message(self) -> str:
        typical = f"time-shuffled alignments cost {self.null_mean:.3f} +- {self.null_std:.3f} per step"
        if self.same_process:
            return (f"the videos seem to show the same process: alignment cost {self.mean_cost:.3f} per step lies "
                    f"{self.z:.1f} standard deviations below the typical range ({typical})")
        return (f"WARNING: the videos do not seem to show the same process: alignment cost {self.mean_cost:.3f} per "
                f"step is not clearly below the typical range ({typical}; z = {self.z:.1f}, expected >= "
                f"{self.min_z:.1f}). The alignment is probably meaningless.")

    def to_json(self) -> dict:
        return asdict(self) | {"message": self.message()}


def path_mean_cost(cost: np.ndarray) -> float:
    """Mean cost per step of the optimal DTW path of `cost` (N, M)."""
    path = np.asarray(dtw_path(cost))
    return float(cost[path[:, 0], path[:, 1]].mean())


def sameness_test(cost: np.ndarray, rounds: int = 20, seed: int = 0,
                  min_z: float = DEFAULT_MIN_Z) -> SamenessTest:
    """Test the alignment of cost matrix (N, M) against `rounds` copies with B shuffled in time, and against as many
    with A shuffled; the verdict is the weaker of the two, so it does not depend on which video is given first (a
    5-frame clip shuffled against a 3000-frame video says little, the other way round a lot)."""
    one_way = _one_sided(cost, rounds, seed, min_z)
    other_way = _one_sided(np.ascontiguousarray(np.asarray(cost).T), rounds, seed, min_z)
    return min(one_way, other_way, key=lambda t: t.z)


def _one_sided(cost: np.ndarray, rounds: int, seed: int, min_z: float) -> SamenessTest:
    """The test with B (the columns) shuffled in time."""
    rng = np.random.default_rng(seed)
    observed = path_mean_cost(cost)
    null = np.array([path_mean_cost(cost[:, rng.permutation(cost.shape[1])]) for _ in range(max(1, rounds))])
    null_mean, null_std = float(null.mean()), float(null.std())
    ratio = observed / null_mean if null_mean > 0 else 1.0
    z = (null_mean - observed) / null_std if null_std > 0 else 0.0
    return SamenessTest(observed, null_mean, null_std, float(ratio), float(z), bool(z >= min_z), min_z)
