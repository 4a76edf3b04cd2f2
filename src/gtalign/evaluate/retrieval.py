"""Fine-grained frame retrieval by phase label: average precision and precision at K.

Queries are the labelled frames of each validation video (every `stride`-th); the database is every labelled
frame of the training videos. A retrieved frame is relevant when its global `(class, phase)` label equals the
query's. With `rel_k` the relevance of the k-th nearest database frame and `P(k)` the precision of the first k:

    AP@K        = sum_{k<=K} P(k) rel_k / sum_{k<=K} rel_k     (0 when none of the K is relevant)
    precision@K = sum_{k<=K} rel_k / K                          (what TCC-style code logs as "AP@K")

Both are averaged over the queries of a video, then over videos.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np
import torch
from tqdm import tqdm

from gtalign.data.embeddings import EmbeddingSet
from gtalign.errors import GtalignError
from gtalign.evaluate.labels import GlobalLabels, stack_frames
from gtalign.evaluate.neighbours import check_metric, pairwise_distances, query_blocks
from gtalign.evaluate.protocol_result import ProtocolResult


@dataclass(frozen=True, kw_only=True)
class RetrievalResult(ProtocolResult):
    """AP@K and precision@K by `str(K)`, averaged over `videos` validation videos."""

    protocol: ClassVar[str] = "retrieval"
    ap: dict[str, float]
    precision: dict[str, float] = field(default_factory=dict)
    videos: int = 0
    stride: int = 1
    distance: str = "sqeuclidean"

    def summary(self) -> dict[str, float | None]:
        """AP@K for every K."""
        return {f"AP@{k}": v for k, v in self.ap.items()}


def nearest_k(queries: np.ndarray, database: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Indices `(Q, k)` of the k nearest database rows `(N, D)` of each query `(Q, D)`, nearest first."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for block in query_blocks(len(queries), len(database)):
        dist = torch.from_numpy(pairwise_distances(queries[block], database, metric))
        out[block] = torch.topk(dist, k, dim=1, largest=False, sorted=True).indices.numpy()
    return out


def precision_and_ap(relevant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """precision@K and AP@K `(Q,)` of ranked relevance flags `(Q, K)` (nearest first)."""
    relevant = relevant.astype(np.float64)
    k = relevant.shape[1]
    precision_at = np.cumsum(relevant, axis=1) / np.arange(1, k + 1)
    hits = relevant.sum(1)
    ap = np.divide((precision_at * relevant).sum(1), hits, out=np.zeros_like(hits), where=hits > 0)
    return hits / k, ap


def evaluate_retrieval(train: EmbeddingSet, val: EmbeddingSet, ks: Sequence[int] = (5, 10, 15), stride: int = 1,
                       distance: str = "sqeuclidean") -> RetrievalResult:
    """AP@K and precision@K of retrieving training frames of the same phase for validation frames."""
    check_metric(distance)
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1 or int(stride) < 1:
        raise GtalignError(f"ks must be positive integers and stride >= 1, got ks={ks}, stride={stride!r}")
    train, val = train.labelled(), val.labelled()
    numbering = GlobalLabels(train, val)
    db_x, db_y = stack_frames(train, numbering)
    if len(db_y) < ks[-1] or not len(val):
        raise GtalignError(f"retrieval needs at least max(ks)={ks[-1]} labelled train frames and labelled val "
                           f"videos, got {len(db_y)} frames and {len(val)} videos")
    ap: dict[int, list[float]] = {k: [] for k in ks}
    precision: dict[int, list[float]] = {k: [] for k in ks}
    for video in tqdm(val, desc="retrieval", leave=False, disable=None):
        labels = numbering.of(video)[::stride]
        keep = labels >= 0
        if not keep.any():
            continue
        neighbours = nearest_k(video.emb[::stride][keep], db_x, ks[-1], distance)
        relevant = db_y[neighbours] == labels[keep][:, None]  # (Q, K_max)
        for k in ks:
            p, a = precision_and_ap(relevant[:, :k])
            precision[k].append(p.mean())
            ap[k].append(a.mean())
    return RetrievalResult(ap={str(k): float(np.mean(ap[k])) for k in ks},
                           precision={str(k): float(np.mean(precision[k])) for k in ks},
                           videos=len(ap[ks[0]]), stride=int(stride), distance=distance)
