"""The training and validation clips of a config: sources, clip sampling, augmentation, optional feature cache."""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Callable, cast

import torch

from gtalign.data import open_source
from gtalign.data.augment import VideoAugment
from gtalign.data.sampling import ClipDataset, ClipSampler, ViewsDataset, collate_clips, collate_views
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.models import Embedder
from gtalign.train.config import Config
from gtalign.train.distributed import ProcessInfo, is_distributed
from gtalign.train.features import FeatureCache, FeatureClipDataset, cache_dir_for, collate_features


@dataclass
class TrainingData:
    """The training and validation clip datasets, and how their items are batched."""

    train: torch.utils.data.Dataset
    val: torch.utils.data.Dataset | None
    collate: Callable[[list[dict[str, Any]]], dict[str, Any]]


def video_lengths(dataset: torch.utils.data.Dataset) -> torch.Tensor:
    """Frame counts (N,) int64 of a clip dataset's videos (the `seq_lens` TCC normalises steps by)."""
    clips: Any = dataset.clips if isinstance(dataset, ViewsDataset) else dataset  # a ClipDataset or FeatureClipDataset
    source = clips.cache.source if isinstance(clips, FeatureClipDataset) else clips.source
    return torch.tensor([int(e.num_frames) for e in source.entries], dtype=torch.int64)


def with_video_lengths(batch: dict[str, Any], lengths: torch.Tensor) -> dict[str, Any]:
    """The batch with `seq_lens` (B,): the full length of each clip's video."""
    return batch | {"seq_lens": lengths[batch["video_index"]]}


def open_split(config: Config, split: str | None, progress: bool = True) -> VideoSource:
    if config.data.root is None:
        raise GtalignError("data.root is not set; give the dataset path in the config or as data.root=DIR")
    return open_source(config.data.root, kind=config.data.kind, split=split, progress=progress)


def build_augment(config: Config) -> VideoAugment | None:
    a = config.augment
    if not a.enabled:
        return None
    low, high = a.contrast  # [low, high], checked when the config is read
    crop = None if a.crop_scale is None else cast("tuple[float, float]", tuple(a.crop_scale))  # VideoAugment checks
    return VideoAugment(flip=a.flip, brightness=a.brightness, contrast=(low, high), crop_scale=crop)


def clip_sampler(config: Config) -> ClipSampler:
    d = config.data
    return ClipSampler(d.num_steps, d.num_context, d.frame_stride, mode=d.sampling, stride=d.step_stride)


def _feature_clips(config: Config, source: VideoSource, embedder: Embedder, device: torch.device,
                   info: ProcessInfo, progress: bool) -> FeatureClipDataset:
    cache = FeatureCache(cache_dir_for(config), source, embedder, config.data.image_size)
    if info.is_main:
        cache.build(device, progress=progress)
    if is_distributed():
        torch.distributed.barrier()
    return FeatureClipDataset(cache, clip_sampler(config), config.train.seed)


def views_per_video(config: Config, loss: torch.nn.Module) -> int:
    """How many clips of each video a batch holds: `data.views_per_video`, or what the loss needs."""
    need = int(getattr(loss, "views", 1))
    views = config.data.views_per_video
    if views is None:
        return need
    if views < need:
        raise GtalignError(f"loss {config.loss['name']!r} compares {need} views of each video, but "
                           f"data.views_per_video is {views}; set it to {need} or more (or leave it null)")
    return views


def with_views(data: TrainingData, views: int) -> TrainingData:
    """`data` with `views` independently drawn clips of each video per item (unchanged for 1)."""
    if views == 1:
        return data
    return TrainingData(ViewsDataset(data.train, views), None if data.val is None else ViewsDataset(data.val, views),
                        functools.partial(collate_views, collate=data.collate))


def build_data(config: Config, embedder: Embedder, device: torch.device, info: ProcessInfo,
               progress: bool = True) -> TrainingData:
    """Training clips (augmented) and validation clips (not augmented; None without a validation split).

    `progress=False` hides the progress bars of opening the dataset and of building the feature cache.
    """
    train = open_split(config, config.data.train_split, progress)
    if len(train) == 0:
        raise GtalignError(f"no training videos in {config.data.root} (split {config.data.train_split!r})")
    val = open_split(config, config.data.val_split, progress) if config.data.val_split else None
    val = val if val is not None and len(val) >= config.data.batch_size else None
    if config.model.cache_features:
        if config.augment.enabled:
            warnings.warn("model.cache_features: augmentations are not applied to cached trunk features", stacklevel=2)
        return TrainingData(_feature_clips(config, train, embedder, device, info, progress),
                            None if val is None else _feature_clips(config, val, embedder, device, info, progress),
                            collate_features)
    size, seed = config.data.image_size, config.train.seed
    return TrainingData(ClipDataset(train, clip_sampler(config), build_augment(config), size, "imagenet", seed),
                        None if val is None else ClipDataset(val, clip_sampler(config), None, size, "imagenet", seed),
                        collate_clips)
