"""Distances between frame embeddings and batched nearest neighbours across many videos at once."""
from __future__ import annotations

from typing import Iterator, Literal, Sequence

import numpy as np

from gtalign.registry import check_choice, choices

Metric = Literal["sqeuclidean", "cosine"]
METRICS: tuple[str, ...] = choices(Metric)
# Upper bound on the cells of one block of distances (about 256 MiB in float64).
BLOCK_CELLS = 32 * 2**20


def check_metric(metric: str) -> str:
    check_choice("distance", metric, METRICS)
    return metric


def pairwise_distances(a: np.ndarray, b: np.ndarray, metric: str = "sqeuclidean") -> np.ndarray:
    """Distances `(..., N, M)` between every row of `a (..., N, D)` and of `b (..., M, D)`.

    "sqeuclidean": `|a - b|^2`; "cosine": `1 - a.b / (|a| |b|)` (as `scipy.spatial.distance.cdist`).
    Computed in float32 when both inputs are float32 (embedding files are), else in float64.
    """
    check_metric(metric)
    dtype = np.float32 if np.asarray(a).dtype == np.asarray(b).dtype == np.float32 else np.float64
    a = np.asarray(a, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    if metric == "cosine":
        a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
        return 1.0 - a @ np.swapaxes(b, -1, -2)
    sq = (a * a).sum(-1)[..., :, None] + (b * b).sum(-1)[..., None, :] - 2.0 * (a @ np.swapaxes(b, -1, -2))
    return np.maximum(sq, 0.0)


def pad_videos(embs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack videos `[(T_i, D)]` into `(V, T_max, D)` (zero padding, dtype of the first) and their lengths `(V,)`."""
    lengths = np.array([len(e) for e in embs], dtype=np.int64)
    out = np.zeros((len(embs), int(lengths.max(initial=0)), embs[0].shape[1] if embs else 0),
                   dtype=np.result_type(*embs) if embs else np.float64)
    for i, e in enumerate(embs):
        out[i, : len(e)] = e
    return out, lengths


def query_blocks(num_queries: int, cells_per_query: int) -> Iterator[slice]:
    """Slices of queries such that each block holds at most about `BLOCK_CELLS` distances."""
    step = max(1, BLOCK_CELLS // max(1, cells_per_query))
    for start in range(0, num_queries, step):
        yield slice(start, min(start + step, num_queries))


def nearest_frames(embs: Sequence[np.ndarray], metric: str = "sqeuclidean") -> np.ndarray:
    """Nearest neighbour of every frame of every video in every video, all pairs in one batched computation.

    `embs` is a list of V videos `(T_i, D)`. Returns int64 `(V, T_max, V)`: entry `[i, t, j]` is the index of the
    frame of video j nearest to frame t of video i (rows `t >= T_i` are padding and hold -1).
    """
    padded, lengths = pad_videos(embs)
    num_videos, t_max, _ = padded.shape
    valid = np.arange(t_max)[None, :] < lengths[:, None]  # (V, T_max)
    out = np.full((num_videos, t_max, num_videos), -1, dtype=np.int64)
    flat = padded.reshape(num_videos * t_max, -1)
    for block in query_blocks(num_videos, t_max * num_videos * t_max):
        dist = pairwise_distances(padded[block].reshape(-1, flat.shape[1]), flat, metric)
        dist = dist.reshape(-1, t_max, num_videos, t_max)  # (q, T_max, V, T_max)
        dist[:, :, ~valid] = np.inf
        nn = dist.argmin(-1)  # (q, T_max, V)
        nn[~valid[block]] = -1
        out[block] = nn
    return out
