"""`gtalign retrieve`: the frames of a collection nearest to a query frame, by embedding distance.

The corpus index is an embedding folder (docs/architecture.md, "Embedding files") built once per corpus and
encoder and saved; later queries reuse it (videos added to the corpus are embedded then, removed ones dropped).
`index.json` records the encoder's fingerprint, so an index is never searched with embeddings of another network.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gtalign.apps.encoders import FrameEncoder
from gtalign.data.embeddings import EmbeddingSet, file_name, index_entry, load_embeddings, write_index
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.io import atomic_save_npy, read_json


@dataclass
class Hit:
    """One retrieved frame: where it is, how far its embedding lies from the query's, and its rank."""

    video: str      # video id in the corpus
    frame: int
    distance: float  # squared Euclidean distance between embeddings
    rank: int


def default_index_dir(corpus: str | Path, encoder: FrameEncoder) -> Path:
    """`$XDG_CACHE_HOME/gtalign/index/<corpus digest>-<encoder fingerprint>` (default cache: ~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha1(str(Path(corpus).resolve()).encode()).hexdigest()[:12]
    return cache / "gtalign" / "index" / f"{Path(corpus).resolve().name}-{digest}-{encoder.fingerprint}"


def _check_encoder(index_dir: Path, encoder: FrameEncoder) -> dict:
    """The existing index.json (or {}), after checking it was built with `encoder`."""
    path = index_dir / "index.json"
    if not path.is_file():
        return {}
    data = read_json(path, "corpus index")
    if data.get("encoder") != encoder.fingerprint:
        raise GtalignError(f"the corpus index {index_dir} was built with another network ({data.get('encoder')} "
                           f"from {data.get('checkpoint')}), not with {encoder.description} "
                           f"({encoder.fingerprint}); give another --index folder or delete this one")
    return data


def build_index(encoder: FrameEncoder, source: VideoSource, index_dir: str | Path,
                progress: bool = True) -> EmbeddingSet:
    """Embed every video of `source` not already in the index at `index_dir`; returns the whole index."""
    index_dir = Path(index_dir)
    old = {v["id"]: v for v in _check_encoder(index_dir, encoder).get("videos", [])}
    videos = []
    for i in tqdm(range(len(source)), desc=f"index -> {index_dir}", unit="video", disable=not progress):
        entry = source.entries[i]
        name = file_name(entry.id)
        known = old.get(entry.id)
        if not (known and known.get("num_frames") == entry.num_frames and (index_dir / name).is_file()):
            emb = encoder.encode(source, i)
            atomic_save_npy(index_dir / name, emb)
        videos.append(index_entry(entry, name, entry.num_frames, meta={"path": str(entry.path)}))
    if not videos:
        raise GtalignError(f"the corpus holds no videos: {source.manifest.name}")
    dim = int(np.load(index_dir / videos[0]["file"], mmap_mode="r").shape[1])
    write_index(index_dir, videos, dim, encoder.description, source.manifest.name, encoder=encoder.fingerprint)
    return load_embeddings(index_dir)


def nearest_frames(query: np.ndarray, index: EmbeddingSet, k: int, exclude_video: str | None = None) -> list[Hit]:
    """The `k` frames of the index nearest to `query` (D,) by squared Euclidean distance, nearest first.

    Frames of `exclude_video` (the query's own video) are left out.
    """
    if k < 1:
        raise GtalignError(f"k must be >= 1, got {k}")
    query = np.asarray(query, dtype=np.float64).reshape(-1)
    if query.shape[0] != index.dim:
        raise GtalignError(f"the query embedding has dimension {query.shape[0]} but the index holds {index.dim}-D "
                           "embeddings (built with another network?)")
    candidates = []
    for v in index:
        if v.id == exclude_video:
            continue
        d = ((v.emb.astype(np.float64) - query) ** 2).sum(axis=1)
        top = np.argsort(d, kind="stable")[:k]
        candidates += [(float(d[f]), v.id, int(f)) for f in top]
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    return [Hit(video, frame, dist, rank) for rank, (dist, video, frame) in enumerate(candidates[:k], start=1)]


def hits_json(query: tuple[str, int], hits: list[Hit], index_dir: Path) -> dict:
    return {"query": {"video": query[0], "frame": query[1]}, "index": str(index_dir),
            "hits": [asdict(h) for h in hits]}
