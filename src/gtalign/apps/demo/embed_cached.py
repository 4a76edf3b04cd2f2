"""The demo's embeddings: a frozen-trunk checkpoint's (`gtalign embed`, on the trunk-feature cache the training
filled), and three references that learn nothing (the trunk's pooled maps, the frame time, the true pose), in the
same format.

The cache is completed first, so every method of the demo runs the trunk on a video only once; with the maps
cached, only the small 3D-conv embedder runs (`gtalign.train.embed.embed_dataset` reads them).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from gtalign.data import open_source
from gtalign.data.embeddings import file_name, index_entry, write_index
from gtalign.data.source import VideoSource
from gtalign.data.synth import VideoSpec
from gtalign.errors import GtalignError
from gtalign.io import atomic_save_npy
from gtalign.train.embed import embed_dataset, load_embedder
from gtalign.train.features import FeatureCache


def write_embeddings(out_dir: str | os.PathLike, source, embed: Callable[[int], np.ndarray], checkpoint: str,
                     manifest: str | os.PathLike, progress: bool = True) -> Path:
    """Write `embed(i)` (N_i, D) of every video i of `source` as `<id>.npy` plus `index.json`; returns the index."""
    out = Path(out_dir)
    videos, dim = [], 0
    for i in tqdm(range(len(source)), desc=f"embed -> {out}", unit="video", disable=not progress):
        entry = source.entries[i]
        emb = embed(i)
        dim, name = emb.shape[1], file_name(entry.id)
        atomic_save_npy(out / name, emb)
        videos.append(index_entry(entry, name, emb.shape[0]))
    return write_index(out, videos, dim, checkpoint, str(Path(manifest).resolve()))


def open_cache(checkpoint: str | os.PathLike, source: VideoSource, cache_dir: str | os.PathLike) -> FeatureCache:
    """The trunk-feature cache in `cache_dir` of `checkpoint`'s trunk for the videos of `source`."""
    model, config = load_embedder(checkpoint)
    return FeatureCache(cache_dir, source, model, config.data.image_size)


def embed_cached(checkpoint: str | os.PathLike, manifest: str | os.PathLike, out_dir: str | os.PathLike,
                 cache_dir: str | os.PathLike, progress: bool = True) -> Path:
    """Embed every video of `manifest` with the frozen-trunk `checkpoint` (`embed_dataset`), on the trunk feature
    cache in `cache_dir` (completed first); writes `<id>.npy` files and `index.json` into `out_dir`, returns the
    index."""
    cache = open_cache(checkpoint, open_source(manifest), cache_dir)
    if not cache.embedder.trunk_frozen:
        raise GtalignError(f"embed_cached needs a checkpoint trained with model.regime=frozen (cached trunk "
                           f"features stay valid only then), got regime {cache.embedder.regime!r} in {checkpoint}")
    cache.build(torch.device("cpu"), progress=progress)
    return embed_dataset(checkpoint, manifest, out_dir, device="cpu", progress=progress, feature_cache=cache_dir)


def embed_trunk_features(checkpoint: str | os.PathLike, manifest: str | os.PathLike, out_dir: str | os.PathLike,
                         cache_dir: str | os.PathLike, progress: bool = True) -> Path:
    """The reference without any learned embedder: each frame's cached trunk maps (F, h, w) averaged over space
    to an F-D vector (F = 96 for MobileNetV2 at conv4), written like `embed_cached`."""
    source = open_source(manifest)
    cache = open_cache(checkpoint, source, cache_dir)
    cache.build(torch.device("cpu"), progress=progress)

    def pooled(i: int) -> np.ndarray:
        maps = cache.cached(i)
        if maps is None:
            raise GtalignError(f"the trunk features of video {source.entries[i].id!r} are not in {cache_dir}")
        return maps.mean(axis=(2, 3))

    return write_embeddings(out_dir, source, pooled, str(checkpoint), manifest, progress)


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


def embed_true_pose(manifest: str | os.PathLike, out_dir: str | os.PathLike, progress: bool = True) -> Path:
    """The reference that reads the pose perfectly: frame t's "embedding" is the performer's true 3D joints
    (`VideoSpec.body_joints`, J x 3 values in the figure's own frame), known only for synthetic videos.

    It is what a flawless, viewpoint-free 3D pose estimator would give: the alignment error it reaches is what
    the raw pose can tell (not zero: phases that look alike, holds, idling and each performer's own style remain),
    against the frame time's error, which is what the time warps alone cost. It is a reference, not a ceiling: a
    representation that also factors out the performer's style can do better.
    """
    source = open_source(manifest)

    def joints(i: int) -> np.ndarray:
        entry = source.entries[i]
        try:
            spec = VideoSpec.from_meta(entry.meta)
        except GtalignError as e:
            raise GtalignError(f"the true-pose reference needs synthetic videos; {entry.id!r}: {e}") from e
        return spec.body_joints().reshape(spec.num_frames, -1).astype(np.float32)

    return write_embeddings(out_dir, source, joints, "", manifest, progress)
