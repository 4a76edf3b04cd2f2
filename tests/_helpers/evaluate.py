"""Builders of small embedding sets with known answers, and a writer of embedding folders (the `gtalign embed`
file contract of docs/architecture.md) for the tests of gtalign.evaluate."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gtalign.evaluate import EmbeddingSet, VideoEmbedding
from gtalign.io import write_json


def video(vid: str, emb: np.ndarray, cls: str = "a", split: str = "val", labels=None, meta=None) -> VideoEmbedding:
    return VideoEmbedding(id=vid, emb=np.asarray(emb, dtype=np.float32), class_name=cls, split=split,
                          labels=None if labels is None else np.asarray(labels, dtype=np.int64), meta=meta or {})


def phase_labels(num_frames: int, num_phases: int) -> np.ndarray:
    """Equal-length consecutive phases 0..num_phases-1 over `num_frames` frames."""
    return (np.arange(num_frames) * num_phases // num_frames).astype(np.int64)


def separable_set(rng: np.random.Generator, classes=("a", "b"), phases=3, dim=8, per_split=(4, 3),
                  frames=(20, 30), spread=0.05) -> EmbeddingSet:
    """Videos whose frames sit near a distinct centre per (class, phase): linearly separable global labels."""
    centres = {(c, p): rng.normal(size=dim) * 3 for c in classes for p in range(phases)}
    videos = []
    for c in classes:
        for split, count in zip(("train", "val"), per_split):
            for i in range(count):
                labels = phase_labels(int(rng.integers(*frames)), phases)
                emb = np.stack([centres[(c, p)] for p in labels]) + spread * rng.normal(size=(len(labels), dim))
                videos.append(video(f"{c}_{split}_{i}", emb, c, split, labels))
    return EmbeddingSet(videos, checkpoint="runs/test/last.pt", dataset="synthetic")


def write_folder(folder: Path, videos: EmbeddingSet | list[VideoEmbedding], dataset: str = "synthetic",
                 checkpoint: str = "runs/test/last.pt") -> Path:
    """Write an embedding folder: one `<id>.npy` per video and `index.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for v in videos:
        np.save(folder / f"{v.id}.npy", v.emb.astype(np.float32))
        entry = {"id": v.id, "file": f"{v.id}.npy", "class": v.class_name, "split": v.split,
                 "num_frames": v.num_frames, "fps": 30.0, "meta": v.meta}
        if v.labels is not None:
            entry["labels"] = v.labels.tolist()
        entries.append(entry)
    dim = int(next(iter(videos)).emb.shape[1])
    write_json(folder / "index.json", {"format": "gtalign-embeddings", "version": 1, "dim": dim,
                                       "checkpoint": checkpoint, "dataset": dataset, "videos": entries})
    return folder / "index.json"
