"""Video synchronization by Kendall's tau (supplement Table 4, as in TCC).

For every ordered pair (i, j), i != j, of validation videos of a class, take every `stride`-th frame of both,
find for each frame of video i its nearest frame of video j (squared Euclidean or cosine distance), and compute
Kendall's tau (`scipy.stats.kendalltau`, tau-b) between the frame indices `0..n-1` and their neighbours' indices.
The tau of a class is the mean over its pairs (NaN pairs dropped, e.g. when all neighbours coincide); the reported
tau is the mean over classes. The nearest neighbours of all pairs of a class come from one batched computation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy import stats
from tqdm import tqdm

from gtalign.data.embeddings import EmbeddingSet
from gtalign.errors import GtalignError
from gtalign.evaluate.neighbours import check_metric, nearest_frames
from gtalign.evaluate.protocol_result import ProtocolResult


@dataclass(frozen=True, kw_only=True)
class KendallResult(ProtocolResult):
    """Kendall's tau averaged over classes (`tau`), per class, and how many pairs it rests on (`nan_pairs` of
    `pairs` had no defined tau)."""

    protocol: ClassVar[str] = "kendall"
    tau: float
    per_class: dict[str, float] = field(default_factory=dict)
    pairs: int = 0
    nan_pairs: int = 0
    skipped_classes: list[str] = field(default_factory=list)
    stride: int = 5
    distance: str = "sqeuclidean"

    def summary(self) -> dict[str, float | None]:
        """The mean tau."""
        return {"": self.tau}


def pair_taus(embs: list[np.ndarray], stride: int = 5, distance: str = "sqeuclidean") -> np.ndarray:
    """Kendall's tau of every ordered pair of videos `[(T_i, D)]`: `(V, V)`, NaN on the diagonal and for NaN taus."""
    strided = [e[::stride] for e in embs]
    nn = nearest_frames(strided, distance)  # (V, T_max, V)
    taus = np.full((len(embs), len(embs)), np.nan)
    for i, e in enumerate(strided):
        steps = np.arange(len(e))
        for j in range(len(embs)):
            if i != j:
                taus[i, j] = stats.kendalltau(steps, nn[i, : len(e), j]).statistic
    return taus


def evaluate_kendall(val: EmbeddingSet, stride: int = 5, distance: str = "sqeuclidean") -> KendallResult:
    """Kendall's tau of video synchronization, per class and averaged over classes.

    Classes with fewer than two videos are skipped (listed in `skipped_classes`).
    """
    check_metric(distance)
    if int(stride) < 1:
        raise GtalignError(f"stride must be a positive integer, got {stride!r}")
    per_class: dict[str, float] = {}
    skipped, pairs, nan_pairs = [], 0, 0
    for name, group in tqdm(val.by_class().items(), desc="kendall", leave=False, disable=None):
        if len(group) < 2:
            skipped.append(name)
            continue
        taus = pair_taus([v.emb for v in group], int(stride), distance)
        off_diagonal = taus[~np.eye(len(group), dtype=bool)]
        pairs += off_diagonal.size
        nan_pairs += int(np.isnan(off_diagonal).sum())
        if np.isnan(off_diagonal).all():
            skipped.append(name)
            continue
        per_class[name] = float(np.nanmean(off_diagonal))
    if not per_class:
        raise GtalignError(f"kendall: expected at least one class with two or more val videos (and a defined tau), "
                           f"got classes {val.classes} with {len(val)} video(s)")
    return KendallResult(tau=float(np.mean(list(per_class.values()))), per_class=per_class, pairs=pairs,
                         nan_pairs=nan_pairs, skipped_classes=skipped, stride=int(stride), distance=distance)
