"""Per-frame targets built from phase labels.

Phase labels are per class (phase 0 of "squat" is not phase 0 of "jump"), so a classifier over all classes uses
the *global label* of a frame: the index of its `(class, phase)` pair. Frames labelled -1 (unknown) get -1.
"""
from __future__ import annotations

import numpy as np

from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding
from gtalign.errors import GtalignError


class GlobalLabels:
    """A fixed numbering of `(class, phase)` pairs, built from every labelled video given."""

    def __init__(self, *sets: EmbeddingSet):
        pairs = {(v.class_name, int(p)) for s in sets for v in s.labelled() for p in np.unique(v.phase_labels())
                 if p >= 0}
        self.pairs: list[tuple[str, int]] = sorted(pairs)
        self._index = {pair: i for i, pair in enumerate(self.pairs)}

    def __len__(self) -> int:
        return len(self.pairs)

    def of(self, video: VideoEmbedding) -> np.ndarray:
        """Global labels `(T,)` of a video's frames; -1 for unknown frames and pairs not in the numbering."""
        if video.labels is None:
            raise GtalignError(f"video {video.id!r} has no per-frame labels; this protocol needs them")
        return np.array([self._index.get((video.class_name, int(p)), -1) for p in video.labels], dtype=np.int64)


def stack_frames(videos: EmbeddingSet, numbering: GlobalLabels) -> tuple[np.ndarray, np.ndarray]:
    """All labelled frames of `videos`: embeddings `(N, D)` and global labels `(N,)` (frames labelled -1 dropped)."""
    if not len(videos):
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    embs = np.concatenate([v.emb for v in videos])
    labels = np.concatenate([numbering.of(v) for v in videos])
    keep = labels >= 0
    return embs[keep], labels[keep]


def phase_segments(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal labels as `(start, stop, label)`, stop exclusive; `labels` has shape `(T,)`."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [labels.size]])
    return [(int(a), int(b), int(labels[a])) for a, b in zip(starts, stops)]


def phase_progress(labels: np.ndarray) -> np.ndarray:
    """Progress of each frame within its phase, `(t - phase_start) / phase_len` in [0, 1); shape `(T,)`.

    A phase is a maximal run of one label; frames labelled -1 get NaN.
    """
    out = np.full(len(labels), np.nan)
    for start, stop, label in phase_segments(labels):
        if label >= 0:
            out[start:stop] = np.arange(stop - start) / (stop - start)
    return out
