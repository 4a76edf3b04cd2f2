"""Embedding every frame from the frozen trunk's cached features (the embedding-folder format of `gtalign embed`).

`gtalign.train.embed.embed_dataset` runs the trunk on every frame and again on each of its context frames; with
a frozen trunk whose features the training already cached, only the small 3D-conv embedder needs to run. The
result equals `embed_dataset`'s up to the float16 rounding of the cached maps (the training saw the same maps).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from gtalign.data import open_source
from gtalign.data.sampling import context_indices
from gtalign.errors import GtalignError
from gtalign.io import atomic_save, write_json
from gtalign.train.embed import FORMAT, VERSION, index_entry, file_name, load_embedder
from gtalign.train.features import FeatureCache


@torch.no_grad()
def embed_from_features(model, feats: np.ndarray, num_context: int, frame_stride: int, chunk: int = 256
                        ) -> np.ndarray:
    """Embeddings (N, D) float32 of every frame of a video from its trunk maps `feats` (N, F, h, w)."""
    n = feats.shape[0]
    index = context_indices(np.arange(n), n, num_context, frame_stride)  # (N, C)
    parts = []
    for start in range(0, n, chunk):
        clip = torch.from_numpy(np.ascontiguousarray(feats[index[start:start + chunk]])).float()  # (n, C, F, h, w)
        parts.append(model.embed_features(clip[None])[0].numpy())
    return np.concatenate(parts).astype(np.float32, copy=False)


def write_embeddings(out_dir: str | os.PathLike, source, embed: Callable[[int], np.ndarray], checkpoint: str,
                     manifest: str | os.PathLike, progress: bool = True) -> Path:
    """Write `embed(i)` (N_i, D) of every video i of `source` as `<id>.npy` plus `index.json`; returns the index."""
    out = Path(out_dir)
    videos, dim = [], 0
    for i in tqdm(range(len(source)), desc=f"embed -> {out}", unit="video", disable=not progress):
        entry = source.entries[i]
        emb = embed(i)
        dim, name = emb.shape[1], file_name(entry.id)
        atomic_save(out / name, lambda tmp, emb=emb: np.save(tmp, emb))
        videos.append(index_entry(entry, name, emb.shape[0]))
    index = out / "index.json"
    write_json(index, {"format": FORMAT, "version": VERSION, "dim": dim, "checkpoint": checkpoint,
                       "dataset": str(Path(manifest).resolve()), "videos": videos})
    return index


def embed_cached(checkpoint: str | os.PathLike, manifest: str | os.PathLike, out_dir: str | os.PathLike,
                 cache_dir: str | os.PathLike, progress: bool = True) -> Path:
    """Embed every video of `manifest` with the frozen-trunk `checkpoint`, reading (and completing) the trunk
    feature cache in `cache_dir`; writes `<id>.npy` files and `index.json` into `out_dir` and returns the index."""
    model, config = load_embedder(checkpoint)
    if config.model.regime != "frozen":
        raise GtalignError(f"embed_cached needs a checkpoint trained with model.regime=frozen (cached trunk "
                           f"features stay valid only then), got regime {config.model.regime!r} in {checkpoint}")
    source = open_source(manifest)
    cache = FeatureCache(cache_dir, source, model, config.data.image_size)
    cache.build(torch.device("cpu"), progress=progress)
    d = config.data
    return write_embeddings(out_dir, source, lambda i: embed_from_features(model, cache.load(i), d.num_context,
                                                                           d.frame_stride),
                            str(checkpoint), manifest, progress)


def embed_trunk_features(checkpoint: str | os.PathLike, manifest: str | os.PathLike, out_dir: str | os.PathLike,
                         cache_dir: str | os.PathLike, progress: bool = True) -> Path:
    """The reference without any learned embedder: each frame's cached trunk maps (F, h, w) averaged over space
    to an F-D vector (F = 96 for MobileNetV2 at conv4), written like `embed_cached`."""
    model, config = load_embedder(checkpoint)
    source = open_source(manifest)
    cache = FeatureCache(cache_dir, source, model, config.data.image_size)
    cache.build(torch.device("cpu"), progress=progress)
    return write_embeddings(out_dir, source, lambda i: np.asarray(cache.load(i), np.float32).mean(axis=(2, 3)),
                            str(checkpoint), manifest, progress)


def embed_frame_time(manifest: str | os.PathLike, out_dir: str | os.PathLike, progress: bool = True) -> Path:
    """The reference that sees no pixels: frame t of an N-frame video is the 1-D "embedding" t / (N - 1).

    Nearest neighbours and DTW on it stretch one video linearly onto the other, so its alignment error is what
    the time warps alone cost; its classification numbers are what the position of a frame in time gives away.
    """
    source = open_source(manifest)
    return write_embeddings(out_dir, source, lambda i: frame_time(source.entries[i].num_frames), "", manifest,
                            progress)


def frame_time(num_frames: int) -> np.ndarray:
    """(num_frames, 1) float32: t / (num_frames - 1) (0 for a single frame)."""
    return (np.arange(num_frames, dtype=np.float32) / max(1, num_frames - 1))[:, None]
