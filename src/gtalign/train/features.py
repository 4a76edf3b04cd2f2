"""The frozen-trunk feature cache: trunk maps of every frame computed once, then the embedder trains on them.

Features of video `id` are stored as float32 `(num_frames, F, h, w)` in
`{cache_dir}/{dataset}/{trunk}-{weights digest}-{image_size}px-f32/{id}-{video digest}.npy` (written atomically),
so a cache is reused only for the same video (path, frame count, modification time), trunk, trunk weights and
image size. They are the trunk's own float32 maps, so anything computed from them (training, `gtalign embed`, the
apps) is what running the trunk would give, to float32 rounding. Augmentations cannot be applied to cached
features: clips are drawn exactly as `ClipDataset` draws them, from un-augmented frames.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from tqdm import tqdm

from gtalign.data.manifest import VideoEntry
from gtalign.data.sampling import ClipSampler, collate_clips, iter_video_chunks, np_rng, step_labels
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.io import atomic_save_npy
from gtalign.models import Embedder
from gtalign.train.config import Config

# Part of the cache folder's name: caches of earlier versions (float16 maps) are not read as these.
PRECISION = "f32"


def weights_digest(module: torch.nn.Module) -> str:
    """A short digest of a module's parameters and buffers (different weights, different cache)."""
    h = hashlib.sha1()
    for name, tensor in module.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


def _video_digest(entry: VideoEntry) -> str:
    """A short digest of where a video is, its frame count and when it was written: two datasets that share a
    name and video ids (e.g. synthetic sets made with other settings) never share cached features."""
    path = Path(entry.path)
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return hashlib.sha1(f"{path.resolve()}|{entry.num_frames}|{mtime}".encode()).hexdigest()[:10]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "dataset"


class FeatureCache:
    """Trunk features of the videos of `source`, computed on demand by `build` and read back memory-mapped."""

    def __init__(self, cache_dir: str | os.PathLike, source: VideoSource, embedder: Embedder, image_size: int):
        self.source, self.embedder, self.image_size = source, embedder, image_size
        key = f"{embedder.config['trunk']}-{weights_digest(embedder.trunk)}-{image_size}px-{PRECISION}"
        self.folder = Path(cache_dir) / _safe(source.manifest.name) / key
        self._files = [self.folder / f"{_safe(entry.id)}-{_video_digest(entry)}.npy" for entry in source.entries]

    def path(self, i: int) -> Path:
        return self._files[i]

    @torch.no_grad()
    def compute(self, i: int, device: torch.device, chunk: int = 64) -> np.ndarray:
        """Trunk maps (num_frames, F, h, w) float32 of every frame of video i."""
        self.embedder.trunk.eval()
        parts = []
        for _, frames in iter_video_chunks(self.source, i, chunk, num_context=0, frame_stride=1,
                                           image_size=self.image_size, normalize="imagenet"):
            feats = self.embedder.trunk_features(frames[:, 0].to(device))
            parts.append(feats.float().cpu().numpy())
        return np.concatenate(parts)

    def build(self, device: torch.device, progress: bool = True, indices: Iterable[int] | None = None) -> None:
        """Compute and store the features of every video (of `indices`, when given) not cached yet."""
        todo = [i for i in (range(len(self.source)) if indices is None else indices) if not self.path(i).is_file()]
        for i in tqdm(todo, desc=f"trunk features -> {self.folder}", unit="video", disable=not progress):
            feats = self.compute(i, device)
            atomic_save_npy(self.path(i), feats)

    def load(self, i: int) -> np.ndarray:
        """The cached maps (num_frames, F, h, w) of video i, memory-mapped (read-only)."""
        return np.load(self.path(i), mmap_mode="r")

    def cached(self, i: int) -> np.ndarray | None:
        """The cached maps (num_frames, F, h, w) float32 of video i read into memory, None when not cached."""
        path = self.path(i)
        if not path.is_file():
            return None
        try:
            maps = np.load(path)
        except (OSError, ValueError) as e:
            raise GtalignError(f"cached trunk features {path} cannot be read ({e}); delete the file to have "
                               f"them computed again") from e
        expected = self.source.entries[i].num_frames
        if maps.ndim != 4 or (expected > 0 and maps.shape[0] != expected):
            raise GtalignError(f"cached trunk features {path} have shape {maps.shape}, expected ({expected}, F, h, "
                               f"w); delete the file to have them computed again")
        return maps.astype(np.float32, copy=False)


def frozen_trunk_cache(cache_dir: str | Path | None, source: VideoSource, embedder: Embedder,
                       image_size: int) -> FeatureCache | None:
    """The feature cache in `cache_dir` of `embedder`'s trunk, or None without a folder or when the trunk is not
    frozen (a trained trunk's features are not what any cache holds)."""
    if cache_dir is None or not embedder.trunk_frozen:
        return None
    return FeatureCache(cache_dir, source, embedder, image_size)


def cache_dir_for(config: Config, run_dir: str | Path | None = None) -> Path:
    """The feature-cache folder of a training config: `model.cache_dir`, by default `feature_cache` next to the
    run folder (`run_dir`, else `train.log_dir`)."""
    if config.model.cache_dir:
        return Path(config.model.cache_dir)
    return Path(run_dir if run_dir is not None else config.train.log_dir).parent / "feature_cache"


class FeatureClipDataset(torch.utils.data.Dataset):
    """`ClipDataset` on cached trunk features: item i holds `features` float32 (T, C, F, h, w) instead of frames,
    with the same steps, labels, length and video_index (same random choices from (seed, epoch, i))."""

    def __init__(self, cache: FeatureCache, sampler: ClipSampler, seed: int = 0):
        self.cache, self.sampler, self.seed = cache, sampler, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.cache.source)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.clip(i)

    def clip(self, i: int, view: int = 0) -> dict[str, torch.Tensor]:
        feats = self.cache.load(i)
        rng = np_rng(self.seed, self.epoch, i, view)
        steps, frame_indices = self.sampler.indices(feats.shape[0], rng)
        length = self.sampler.valid_length(feats.shape[0])
        return {"features": torch.from_numpy(np.ascontiguousarray(feats[frame_indices])),
                "steps": torch.from_numpy(steps),
                "labels": torch.from_numpy(step_labels(self.cache.source, i, steps, length)),
                "length": torch.tensor(length, dtype=torch.int64), "video_index": torch.tensor(i, dtype=torch.int64)}


def collate_features(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """`collate_clips` for feature clips: `features` (B, T, C, F, h, w) padded like frames."""
    batch = collate_clips([{**item, "frames": item["features"]} for item in items])
    batch["features"] = batch.pop("frames")
    return batch
