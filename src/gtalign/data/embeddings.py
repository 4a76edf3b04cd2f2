"""The embeddings file format, read and written here only (docs/architecture.md, "Embedding files").

A folder with one `<file_name(id)>` `.npy` (float32 `(num_frames, D)`) per video and `index.json`
(`{"format": FORMAT, "version": VERSION, "dim", "checkpoint", "dataset", "videos": [index_entry, ...]}`), written
by `gtalign embed`, the demo and `gtalign retrieve`'s index, read by `gtalign evaluate` and the apps. An
`EmbeddingSet` is a list of `VideoEmbedding`s (per-frame embeddings `(T, D)` of one video with its class, split,
per-frame labels and meta) that the protocols split by `split` and group by class.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from gtalign.checks import check_finite
from gtalign.data.manifest import VideoEntry
from gtalign.errors import GtalignError
from gtalign.io import read_json, write_json

FORMAT = "gtalign-embeddings"
VERSION = 1


@dataclass
class VideoEmbedding:
    """Per-frame embeddings of one video.

    `emb` is float32 `(T, D)`; `labels` is int64 `(T,)` (per-class phase labels, -1 where unknown) or None.
    """

    id: str
    emb: np.ndarray
    class_name: str = ""
    split: str = "val"
    labels: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    fps: float = 30.0

    @property
    def num_frames(self) -> int:
        return int(self.emb.shape[0])

    def phase_labels(self) -> np.ndarray:
        """`labels`, for a video that has them (a GtalignError naming the video otherwise)."""
        if self.labels is None:
            raise GtalignError(f"video {self.id!r} has no per-frame phase labels")
        return self.labels


@dataclass
class EmbeddingSet:
    """The embedded videos of a dataset, with where they came from (`checkpoint`, `dataset`)."""

    videos: list[VideoEmbedding]
    checkpoint: str = ""
    dataset: str = ""
    root: Path | None = None

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[VideoEmbedding]:
        return iter(self.videos)

    def __getitem__(self, i: int) -> VideoEmbedding:
        return self.videos[i]

    @property
    def dim(self) -> int:
        return int(self.videos[0].emb.shape[1]) if self.videos else 0

    @property
    def classes(self) -> list[str]:
        """Class names in order of first appearance."""
        return list(dict.fromkeys(v.class_name for v in self.videos))

    def _with(self, videos: list[VideoEmbedding]) -> "EmbeddingSet":
        return EmbeddingSet(videos, self.checkpoint, self.dataset, self.root)

    def split(self, name: str) -> "EmbeddingSet":
        """The videos whose `split` is `name`."""
        return self._with([v for v in self.videos if v.split == name])

    def by_class(self) -> dict[str, "EmbeddingSet"]:
        """One `EmbeddingSet` per class, in order of first appearance."""
        return {c: self._with([v for v in self.videos if v.class_name == c]) for c in self.classes}

    def labelled(self) -> "EmbeddingSet":
        """The videos that carry per-frame labels."""
        return self._with([v for v in self.videos if v.labels is not None])


def _video_from_json(item: Any, root: Path, dim: int, where: str) -> VideoEmbedding:
    if not isinstance(item, dict) or "id" not in item:
        raise GtalignError(f"{where}: expected an object with an 'id', got {item!r:.80}")
    file = root / str(item.get("file", f"{item['id']}.npy"))
    if not file.is_file():
        raise GtalignError(f"{where}: embedding file not found: {file}")
    try:
        emb = np.load(file, allow_pickle=False)  # never unpickle a file: object arrays are refused
    except (ValueError, OSError, EOFError) as e:  # truncated, object dtype, not a .npy
        raise GtalignError(f"{file}: not a readable float .npy array of embeddings ({e})") from e
    if not (np.issubdtype(emb.dtype, np.floating) or np.issubdtype(emb.dtype, np.integer)):
        raise GtalignError(f"{file}: embeddings must be numbers, got dtype {emb.dtype}")
    emb = emb.astype(np.float32, copy=False)
    if emb.ndim != 2 or (dim and emb.shape[1] != dim):
        raise GtalignError(f"{file}: expected embeddings of shape (num_frames, {dim or 'D'}), got {emb.shape}")
    if "num_frames" in item and int(item["num_frames"]) != emb.shape[0]:
        raise GtalignError(f"{file}: index says num_frames={item['num_frames']} but the file holds {emb.shape[0]}")
    check_finite(str(file), emb)
    labels = item.get("labels")
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (emb.shape[0],):
            raise GtalignError(f"{where}: labels has {labels.size} values, expected one per frame ({emb.shape[0]})")
    return VideoEmbedding(id=str(item["id"]), emb=emb, class_name=str(item.get("class", "")),
                          split=str(item.get("split", "val")), labels=labels, meta=dict(item.get("meta") or {}),
                          fps=float(item.get("fps", 30.0)))


def load_embeddings(path: str | Path) -> EmbeddingSet:
    """Read an embedding folder (or its `index.json`) into an `EmbeddingSet`."""
    path = Path(path)
    index_path = path / "index.json" if path.is_dir() or path.suffix != ".json" else path
    data = read_json(index_path, "embedding index")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GtalignError(f"{index_path} is not an embedding index (expected \"format\": \"{FORMAT}\")")
    if int(data.get("version", 0)) > VERSION:
        raise GtalignError(f"{index_path} has version {data.get('version')}; this gtalign reads up to {VERSION}")
    root = index_path.parent
    dim = int(data.get("dim", 0))
    videos = [_video_from_json(v, root, dim, f"{index_path}: videos[{i}]")
              for i, v in enumerate(data.get("videos", []))]
    if not videos:
        raise GtalignError(f"{index_path} lists no videos")
    return EmbeddingSet(videos, checkpoint=str(data.get("checkpoint") or ""), dataset=str(data.get("dataset") or ""),
                        root=root)


def file_name(video_id: str) -> str:
    """A file name for a video id: the id itself when it is safe, else a cleaned id with a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", video_id)
    if safe == video_id and not video_id.startswith("."):
        return f"{video_id}.npy"
    return f"{safe.lstrip('.')}-{hashlib.sha1(video_id.encode()).hexdigest()[:8]}.npy"


def index_entry(entry: VideoEntry, name: str, num_frames: int, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `index.json` item of one video embedded into the file `name` (`meta` default: the entry's)."""
    labels = None if entry.labels is None else [int(x) for x in entry.labels]
    return {"id": entry.id, "file": name, "class": entry.class_name, "split": entry.split, "num_frames": num_frames,
            "fps": float(entry.fps), "labels": labels, "meta": entry.meta if meta is None else meta}


def write_index(out_dir: Path, videos: list[dict[str, Any]], dim: int, checkpoint: str, dataset: str,
                **extra: Any) -> Path:
    """Write `index.json` of an embedding folder (`videos`: `index_entry` items, `extra`: more top-level keys);
    returns its path."""
    index = Path(out_dir) / "index.json"
    write_json(index, {"format": FORMAT, "version": VERSION, "dim": dim, "checkpoint": checkpoint,
                       "dataset": dataset, **extra, "videos": videos})
    return index
