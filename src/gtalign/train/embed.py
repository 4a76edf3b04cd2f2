"""Embed every frame of every video with a trained checkpoint: one `<id>.npy` (num_frames, D) per video plus
`index.json` (docs/architecture.md, "Embedding files").

Videos whose file is already there (with the right shape, from the same checkpoint) are skipped, so an interrupted
run continues where it stopped. `.checkpoint.json` in the folder records which checkpoint (SHA-1 of the file) the
embeddings come from; another checkpoint's embeddings are replaced, never mixed in.

With a frozen trunk, the trunk maps the training cached (`gtalign.train.features.FeatureCache`) are read instead of
running the trunk, where they are there; the embeddings are the same either way (to float32 rounding).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm

from gtalign.data import open_source
from gtalign.data.embeddings import file_name, index_entry, write_index
from gtalign.data.manifest import Manifest, VideoEntry
from gtalign.data.sampling import context_indices, iter_video_chunks
from gtalign.data.scan import check_entry
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.io import atomic_save_npy, read_json, write_json
from gtalign.models import Embedder
from gtalign.train.checkpoint import load_checkpoint
from gtalign.train.config import Config, config_from_dict
from gtalign.train.features import FeatureCache, cache_dir_for, frozen_trunk_cache
from gtalign.train.trainer import choose_device

STATE_FILE = ".checkpoint.json"


def load_embedder(checkpoint: str | os.PathLike) -> tuple[Embedder, Config]:
    """The trained embedder of a checkpoint (eval mode, on CPU) and the config it was trained with."""
    state = load_checkpoint(checkpoint)
    config = config_from_dict(state["config"])
    model = Embedder.from_config(config.model, None, config.data.num_steps)  # the checkpoint holds every weight
    model.load_state_dict(state["model"])
    return model.eval(), config


def file_sha1(path: str | os.PathLike) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def video_ids(paths: Sequence[str | os.PathLike]) -> list[str]:
    """A distinct name for each video file (its stem) or frame folder (its name). Where names clash, the clashing
    ones are named by their file name with its suffix (x.mp4, x.mov), and where that clashes too, as the clips of
    several cameras of one make do (cam1/GX010001.MP4, cam2/GX010001.MP4), by their parent folders' names in front,
    as many as it takes ("cam1-GX010001"). The same file given twice is an error."""
    resolved = [Path(p).resolve() for p in paths]
    twice = [str(p) for k, p in enumerate(resolved) if p in resolved[:k]]
    if twice:
        raise GtalignError(f"videos: {twice[0]} is given more than once")
    own = [p.stem if p.is_file() else p.name for p in resolved]

    def rename(ids: list[str], name) -> list[str]:
        clash = {i for i in ids if ids.count(i) > 1}
        return [name(p, stem) if i in clash else i for p, stem, i in zip(resolved, own, ids)]

    ids = rename(own, lambda p, stem: p.name)
    for depth in range(1, max(len(p.parts) for p in resolved)):  # distinct paths differ in some folder
        ids = rename(ids, lambda p, stem, depth=depth: "-".join([*p.parent.parts[1:][-depth:], stem]))
    if len(set(ids)) != len(ids):  # a folder named like another's renamed file
        raise GtalignError(f"videos must have distinct names, got {ids}")
    return ids


def videos_source(paths: Sequence[str | os.PathLike]) -> VideoSource:
    """A source of loose video files or frame folders (ids from `video_ids`, checked before anything is decoded;
    counted frames)."""
    ids = video_ids(paths)
    entries = [check_entry(VideoEntry(id=i, path=Path(p).resolve(), split="test")) for i, p in zip(ids, paths)]
    return VideoSource(Manifest(name="videos", videos=entries))


def _open(data: Any, split: str | None, kind: str, progress: bool) -> tuple[VideoSource, str]:
    if isinstance(data, VideoSource):
        return data, data.manifest.name
    if isinstance(data, (list, tuple)):
        return videos_source(data), "videos"
    return open_source(data, kind=kind, split=split, progress=progress), str(Path(data).resolve())


@torch.no_grad()
def iter_feature_clips(model: Embedder, feats: np.ndarray | torch.Tensor, num_context: int, frame_stride: int,
                       chunk: int = 256, device: torch.device | None = None, return_maps: bool = False) -> Iterator:
    """`model.embed_features` of every frame of a video with its context frames (`num_context` of them,
    `frame_stride` apart), from the video's trunk maps `feats` (N, F, h, w) (an array, or a tensor wherever it
    lies), `chunk` frames at a time on `device` (default: where the model is): yields what `embed_features` gives
    for each chunk, embeddings (1, n, D) (with `return_maps`, also the last conv layer's maps)."""
    device = device if device is not None else next(model.parameters()).device
    n = feats.shape[0]
    index: np.ndarray | torch.Tensor = context_indices(np.arange(n), n, num_context, frame_stride)  # (N, C)
    if isinstance(feats, torch.Tensor):
        index = torch.from_numpy(index).to(feats.device)
    for start in range(0, n, chunk):
        rows = index[start:start + chunk]
        clip = feats[rows] if isinstance(feats, torch.Tensor) else \
            torch.from_numpy(np.ascontiguousarray(feats[rows], dtype=np.float32))  # (n, C, F, h, w)
        yield model.embed_features(clip[None].to(device), return_maps=return_maps, sequence=False)


@torch.no_grad()
def whole_sequence(model: Embedder, parts: list[torch.Tensor]) -> np.ndarray:
    """The per-frame embeddings of a video's chunks (1, n, D) joined, then the model's temporal head over the whole
    video (none: unchanged): (N, D) float32."""
    embs = torch.cat(parts, dim=1)
    return model.sequence(embs)[0].float().cpu().numpy()


def embed_from_features(model: Embedder, feats: np.ndarray, num_context: int, frame_stride: int, chunk: int = 256,
                        device: torch.device | None = None) -> np.ndarray:
    """Embeddings (N, D) float32 of every frame of a video from its trunk maps `feats` (N, F, h, w), each frame
    with its context frames: `model(frames)` without the trunk (`iter_feature_clips`)."""
    return whole_sequence(model, list(iter_feature_clips(model, feats, num_context, frame_stride, chunk, device)))


@torch.no_grad()
def embed_video(model: Embedder, config: Config, source: VideoSource, i: int, chunk: int,
                device: torch.device, cache: FeatureCache | None = None) -> np.ndarray:
    """Embeddings (num_frames, D) float32 of every frame of video i, each with its training context frames; from
    the trunk maps in `cache` (a `FeatureCache` of `source`) when video i is cached there."""
    d = config.data
    if cache is not None and cache.source is not source:
        raise GtalignError(f"the feature cache {cache.folder} belongs to another source than the one embedded")
    maps = None if cache is None else cache.cached(i)
    if maps is not None:
        return embed_from_features(model, maps, d.num_context, d.frame_stride, chunk, device)
    parts = [model(frames[None].to(device), sequence=False)
             for _, frames in iter_video_chunks(source, i, chunk, d.num_context, d.frame_stride, d.image_size,
                                                "imagenet")]
    return whole_sequence(model, parts)


def open_cache(setting: bool | str | os.PathLike, checkpoint: str | os.PathLike, model: Embedder, config: Config,
               source: VideoSource) -> FeatureCache | None:
    """The trunk-feature cache `embed_dataset` reads: `setting` True: the checkpoint's training cache
    (`model.cache_dir`, by default `feature_cache` next to the run folder) when the trunk is frozen and the folder
    is there; False: none; a folder: that one (GtalignError when it is missing or the trunk is not frozen)."""
    if setting is False:
        return None
    if setting is True:
        folder = cache_dir_for(config, Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent)
        return frozen_trunk_cache(folder, source, model, config.data.image_size) if folder.is_dir() else None
    folder = Path(setting)
    if not model.trunk_frozen:
        raise GtalignError(f"feature cache {folder}: cached trunk features stand in only for a frozen trunk, but "
                           f"{checkpoint} trained its trunk (model.regime={config.model.regime!r})")
    if not folder.is_dir():
        raise GtalignError(f"feature cache {folder} is not a folder")
    return frozen_trunk_cache(folder, source, model, config.data.image_size)


def _reusable(path: Path, shape: tuple[int, int]) -> bool:
    try:
        return path.is_file() and np.load(path, mmap_mode="r").shape == shape
    except (ValueError, OSError):
        return False


def embed_dataset(checkpoint: str | os.PathLike, source_or_path: Any, out_dir: str | os.PathLike,
                  split: str | None = None, chunk: int = 64, kind: str = "auto", device: str = "auto",
                  progress: bool = True, feature_cache: bool | str | os.PathLike = True) -> Path:
    """Embed every frame of every video of a dataset (a path, a `VideoSource`, or a list of video files / frame
    folders) into `out_dir`; returns the path of `index.json`.

    `feature_cache` (see `open_cache`): where cached frozen-trunk maps are read from; True: the checkpoint's own
    training cache if there, False: never. It changes the speed, not the embeddings.
    """
    if chunk < 1:
        raise GtalignError(f"chunk must be >= 1 frames, got {chunk}")
    out = Path(out_dir)
    source, dataset = _open(source_or_path, split, kind, progress)
    model, config = load_embedder(checkpoint)
    cache = open_cache(feature_cache, checkpoint, model, config, source)
    dev = choose_device(device)
    model.to(dev)
    digest = file_sha1(Path(checkpoint) / "last.pt" if Path(checkpoint).is_dir() else checkpoint)
    state_path = out / STATE_FILE
    same_checkpoint = state_path.is_file() and read_json(state_path, "embedding state").get("sha1") == digest
    write_json(state_path, {"checkpoint": str(checkpoint), "sha1": digest})
    videos = []
    for i in tqdm(range(len(source)), desc=f"embed -> {out}", unit="video", disable=not progress):
        entry = source.entries[i]
        name = file_name(entry.id)
        if not (same_checkpoint and entry.num_frames > 0
                and _reusable(out / name, (entry.num_frames, model.embedding_dim))):
            emb = embed_video(model, config, source, i, chunk, dev, cache)
            atomic_save_npy(out / name, emb)
            entry_frames = emb.shape[0]
        else:
            entry_frames = entry.num_frames
        videos.append(index_entry(entry, name, entry_frames))
    return write_index(out, videos, model.embedding_dim, str(checkpoint), dataset)
