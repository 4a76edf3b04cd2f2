"""Alignment error against known correspondences (synthetic videos with ground-truth time warps).

Each video carries `meta["canonical_time"]`: the canonical time in [0, 1] of each of its frames. Frame i of
video A corresponds to the frame of video B with the nearest canonical time. For every ordered pair of
validation videos of a class, two predicted alignments are scored:

- "nn": frame i of A goes to its nearest frame of B in embedding space;
- "dtw": the hard optimal DTW path on the pairwise distances, frame i of A going to the mean index of the frames
  of B it is matched with on the path (a path may match one frame of A to several of B).

Per alignment: the mean absolute error in frames of B, and Kendall's tau between `0..N-1` and the predicted
indices. Both are averaged over the pairs of a class, then over classes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np
from scipy import stats
from tqdm import tqdm

from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding
from gtalign.errors import GtalignError
from gtalign.evaluate.neighbours import check_metric, nearest_frames, pairwise_distances
from gtalign.evaluate.protocol_result import ProtocolResult
from gtalign.ops.path import dtw_path, path_to_mapping

PathFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, kw_only=True)
class AlignmentResult(ProtocolResult):
    """Per alignment kind ("nn", "dtw"): `{"mae_frames", "tau"}` averaged over classes, and per class."""

    protocol: ClassVar[str] = "alignment"
    nn: dict[str, float]
    dtw: dict[str, float]
    per_class: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    pairs: int = 0
    distance: str = "sqeuclidean"

    def summary(self) -> dict[str, float | None]:
        """Frame error and tau of both alignments."""
        return {f"{kind.upper()} {label}": getattr(self, kind)[m] for kind in ("nn", "dtw")
                for m, label in (("mae_frames", "error"), ("tau", "tau"))}


def ops_dtw_path(cost: np.ndarray) -> np.ndarray:
    """The optimal warping path of `cost (N, M)` from `gtalign.ops.dtw_path`, as index pairs `(L, 2)`."""
    return np.asarray(dtw_path(cost), dtype=np.int64).reshape(-1, 2)


def canonical_time(video: VideoEmbedding) -> np.ndarray:
    """`meta["canonical_time"]` of a video as `(T,)`, checked."""
    times = video.meta.get("canonical_time")
    if times is None:
        raise GtalignError(f"alignment: video {video.id!r} has no meta['canonical_time'] (ground-truth warps are "
                           f"only known for synthetic videos)")
    times = np.asarray(times, dtype=np.float64)
    if times.shape != (video.num_frames,):
        raise GtalignError(f"alignment: video {video.id!r} has {times.size} canonical times, expected one per "
                           f"frame ({video.num_frames})")
    return times


def true_correspondence(times_a: np.ndarray, times_b: np.ndarray) -> np.ndarray:
    """For each frame of A `(N,)`, the frame of B `(M,)` with the nearest canonical time: `(N,)` int64."""
    return np.abs(times_a[:, None] - times_b[None, :]).argmin(1)


def mapping_scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Mean absolute frame error and Kendall's tau (vs frame order) of a predicted mapping `(N,)`."""
    tau = stats.kendalltau(np.arange(len(predicted)), predicted).statistic
    return float(np.abs(predicted - truth).mean()), float(tau)


def _class_pairs(group: EmbeddingSet, distance: str, path_fn: PathFn) -> dict[str, list[tuple[float, float]]]:
    times = [canonical_time(v) for v in group]
    nn = nearest_frames([v.emb for v in group], distance)  # (V, T_max, V)
    scores: dict[str, list[tuple[float, float]]] = {"nn": [], "dtw": []}
    for i, a in enumerate(group):
        for j, b in enumerate(group):
            if i == j:
                continue
            truth = true_correspondence(times[i], times[j])
            path = path_fn(pairwise_distances(a.emb, b.emb, distance))
            scores["nn"].append(mapping_scores(nn[i, : a.num_frames, j].astype(np.float64), truth))
            scores["dtw"].append(mapping_scores(path_to_mapping(path, a.num_frames), truth))
    return scores


def _mean_defined(values: list[float]) -> float:
    """Mean over the defined (non-NaN) values; NaN, without a warning, when none is defined."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def evaluate_alignment(val: EmbeddingSet, distance: str = "sqeuclidean",
                       path_fn: PathFn | None = None) -> AlignmentResult:
    """Frame error and tau of nearest-neighbour and DTW alignments against the ground-truth correspondences.

    `path_fn(cost (N, M)) -> (L, 2)` gives the hard DTW path (default: `gtalign.ops.dtw_path`).
    """
    check_metric(distance)
    path_fn = path_fn or ops_dtw_path
    per_class: dict[str, dict] = {}
    pairs = 0
    for name, group in tqdm(val.by_class().items(), desc="alignment", leave=False, disable=None):
        if len(group) < 2:
            continue
        scores = _class_pairs(group, distance, path_fn)
        pairs += len(scores["nn"])
        per_class[name] = {kind: {"mae_frames": float(np.mean([s[0] for s in v])),
                                  "tau": _mean_defined([s[1] for s in v])} for kind, v in scores.items()}
    if not per_class:
        raise GtalignError(f"alignment: expected a class with two or more val videos, got classes {val.classes}")
    summary = {kind: {m: float(np.mean([c[kind][m] for c in per_class.values()])) for m in ("mae_frames", "tau")}
               for kind in ("nn", "dtw")}
    return AlignmentResult(nn=summary["nn"], dtw=summary["dtw"], per_class=per_class, pairs=pairs, distance=distance)
