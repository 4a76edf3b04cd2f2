"""Clips for training and whole videos for evaluation: which frames, read once, preprocessed, batched.

A clip of a video is T steps (frame indices into the video); each step is embedded from itself and k context
frames before it, `frame_stride` apart: C = k + 1 frames per step, oldest first, clamped into the video (see
docs/architecture.md, "Clips for training").
"""
from __future__ import annotations

from typing import Any, Iterator, Literal, cast

import numpy as np
import torch
import torch.utils.data

from gtalign.data.augment import VideoAugment, check_normalize, normalize_frames, resize_frames, to_float_frames
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.registry import check_choice, choices

SamplingMode = Literal["random", "uniform", "stride", "all"]
MODES: tuple[str, ...] = choices(SamplingMode)


def context_indices(steps: np.ndarray, num_frames: int, num_context: int, frame_stride: int) -> np.ndarray:
    """Frame indices (T, k+1) of each step (T,) and its k context frames, oldest first, clamped to the video."""
    offsets = np.arange(-num_context, 1, dtype=np.int64) * frame_stride
    return np.clip(np.asarray(steps, dtype=np.int64)[:, None] + offsets[None, :], 0, num_frames - 1)


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GtalignError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class ClipSampler:
    """Chooses a clip's steps in a video of `num_frames` frames.

    Modes: `random` (T distinct frames at random, in temporal order, as published); `uniform` (T frames evenly
    spread over the video with a random offset); `stride` (T frames `stride` apart from a random start);
    `all` (every `stride`-th frame from 0, for evaluation; T is ignored). Training modes fill a video shorter
    than the clip with its frames in order and then repeat the last frame; `valid_length` says how many steps
    are real.
    """

    def __init__(self, num_steps: int | None = 20, num_context: int = 2, frame_stride: int = 15,
                 mode: str = "random", stride: int = 1):
        check_choice("mode", mode, MODES)
        self.mode = mode
        self.num_steps = None if mode == "all" and num_steps is None else _positive_int("num_steps", num_steps)
        self.num_context = _positive_int("num_context", num_context, 0)
        self.frame_stride = _positive_int("frame_stride", frame_stride)
        self.stride = _positive_int("stride", stride)

    def __repr__(self) -> str:
        return (f"ClipSampler(num_steps={self.num_steps}, num_context={self.num_context}, "
                f"frame_stride={self.frame_stride}, mode={self.mode!r}, stride={self.stride})")

    def valid_length(self, num_frames: int) -> int:
        """How many of the steps of a clip of this video are real frames (the rest repeat the last frame)."""
        if self.mode == "all":
            return len(range(0, num_frames, self.stride))
        t = cast(int, self.num_steps)  # set for every mode but "all" (checked in __init__)
        if self.mode == "stride":
            return min(t, (num_frames - 1) // self.stride + 1)
        return min(t, num_frames)

    def steps(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """The clip's steps (T,) int64, non-decreasing, in [0, num_frames)."""
        num_frames = _positive_int("num_frames", num_frames)
        if self.mode == "all":
            return np.arange(0, num_frames, self.stride, dtype=np.int64)
        t = cast(int, self.num_steps)
        if self.mode == "stride":
            start = int(rng.integers(0, max(num_frames - (t - 1) * self.stride, 1)))
            return np.minimum(start + self.stride * np.arange(t, dtype=np.int64), num_frames - 1)
        if num_frames < t:
            return np.minimum(np.arange(t, dtype=np.int64), num_frames - 1)
        if self.mode == "random":
            return np.sort(rng.choice(num_frames, size=t, replace=False)).astype(np.int64)
        spacing = num_frames / t
        return np.floor(rng.uniform(0.0, spacing) + spacing * np.arange(t)).astype(np.int64)

    def indices(self, num_frames: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The clip's steps (T,) and the frame indices (T, k+1) of each step with its context, oldest first."""
        steps = self.steps(num_frames, rng)
        return steps, context_indices(steps, num_frames, self.num_context, self.frame_stride)


def preprocess_frames(frames: np.ndarray, image_size: int, normalize: str, augment: VideoAugment | None = None,
                      rng: np.random.Generator | None = None) -> torch.Tensor:
    """uint8 frames (n, H, W, 3) -> float32 (n, 3, size, size), augmented (one set of parameters drawn from
    `rng` for all of them) or resized, then normalised."""
    out = to_float_frames(frames)
    if augment is not None:
        out = augment(out, rng if rng is not None else np.random.default_rng(), image_size)
    else:
        out = resize_frames(out, image_size)
    return normalize_frames(out, normalize)


def load_frames(source: VideoSource, i: int, frame_indices: np.ndarray, image_size: int, normalize: str,
                augment: VideoAugment | None = None, rng: np.random.Generator | None = None) -> torch.Tensor:
    """Frames of video i at `frame_indices` (any shape S), preprocessed: float32 (*S, 3, size, size).

    Each distinct frame is read and processed once; with `augment`, one set of parameters (drawn from `rng`)
    applies to all of them.
    """
    frame_indices = np.asarray(frame_indices, dtype=np.int64)
    distinct, inverse = np.unique(frame_indices, return_inverse=True)
    frames = preprocess_frames(source.read_frames(i, distinct), image_size, normalize, augment, rng)
    return frames[torch.from_numpy(inverse.reshape(-1))].reshape(*frame_indices.shape, *frames.shape[1:])


def _num_frames(source: VideoSource, i: int) -> int:
    n = int(source.entries[i].num_frames)
    if n <= 0:
        raise GtalignError(f"video {source.entries[i].id!r} has num_frames {n}; expected its frame count "
                           f"(convert the dataset to a manifest with `gtalign data convert` to count frames)")
    return n


def step_labels(source: VideoSource, i: int, steps: np.ndarray, length: int) -> np.ndarray:
    """Per-step labels (T,) int64 of video i: the frame's label, -1 where unknown or past `length`."""
    labels = source.entries[i].labels
    out = np.full(len(steps), -1, dtype=np.int64)
    if labels is not None:
        out[:length] = np.asarray(labels, dtype=np.int64)[steps[:length]]
    return out


class ClipDataset(torch.utils.data.Dataset):
    """One training clip per video of `source`; item i is a dict (see docs/architecture.md):

    `frames` float32 (T, C, 3, H, W), `steps` int64 (T,), `labels` int64 (T,) (-1 unknown or padded),
    `length` int64 () (real steps), `video_index` int64 ().
    The random choices of item i depend only on (seed, epoch, i): call `set_epoch` at each epoch.
    """

    def __init__(self, source: VideoSource, sampler: ClipSampler, augment: VideoAugment | None = None,
                 image_size: int = 112, normalize: str = "imagenet", seed: int = 0):
        self.source = source
        self.sampler = sampler
        self.augment = augment
        self.image_size = _positive_int("image_size", image_size)
        self.normalize = check_normalize(normalize)
        self.seed = _positive_int("seed", seed, 0)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = _positive_int("epoch", epoch, 0)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.clip(i)

    def clip(self, i: int, view: int = 0) -> dict[str, torch.Tensor]:
        """Item i; another `view` draws other steps and augmentation from the same video."""
        if not 0 <= i < len(self):
            raise IndexError(f"clip index {i} out of range for {len(self)} videos")
        rng = np_rng(self.seed, self.epoch, i, view)
        n = _num_frames(self.source, i)
        steps, frame_indices = self.sampler.indices(n, rng)
        length = self.sampler.valid_length(n)
        frames = load_frames(self.source, i, frame_indices, self.image_size, self.normalize, self.augment, rng)
        return {"frames": frames, "steps": torch.from_numpy(steps),
                "labels": torch.from_numpy(step_labels(self.source, i, steps, length)),
                "length": torch.tensor(length, dtype=torch.int64), "video_index": torch.tensor(i, dtype=torch.int64)}


def np_rng(seed: int, epoch: int, i: int, view: int = 0) -> np.random.Generator:
    """The random draws of clip i at an epoch: view 0 from (seed, epoch, i), view v > 0 from (seed, epoch, i, v)."""
    return np.random.default_rng([seed, epoch, i] + ([view] if view else []))


class ViewsDataset(torch.utils.data.Dataset):
    """`views` clips of each video of a clip dataset (anything with `clip(i, view)`), drawn independently, for losses
    that compare two views of one video (SCL): item i is a list of `views` clip dicts; batch them with
    `collate_views`."""

    def __init__(self, clips: Any, views: int):
        self.clips, self.views = clips, _positive_int("views", views)

    def set_epoch(self, epoch: int) -> None:
        self.clips.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> list[dict[str, torch.Tensor]]:
        return [self.clips.clip(i, view) for view in range(self.views)]


def collate_views(items: list[list[dict[str, torch.Tensor]]], collate: Any = None) -> dict[str, torch.Tensor]:
    """Batch the views of `ViewsDataset` items with `collate` (default `collate_clips`): the views of a video are
    consecutive, and `video_index` tells which clips belong together."""
    return (collate or collate_clips)([clip for views in items for clip in views])


def _pad_steps(x: torch.Tensor, total: int, fill: int | None = None) -> torch.Tensor:
    """x (T, ...) extended to (total, ...) along steps: with `fill`, or by repeating its last step."""
    if x.shape[0] == total:
        return x
    if fill is not None:
        pad = x.new_full((total - x.shape[0],) + tuple(x.shape[1:]), fill)
    else:
        pad = x[x.shape[0] - 1:].expand((total - x.shape[0],) + tuple(x.shape[1:]))
    return torch.cat([x, pad])


def collate_clips(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Batch clip dicts of possibly different lengths T_b into padded tensors:

    `frames` (B, T, C, 3, H, W) and `steps` (B, T) padded by repeating each clip's last step, `labels` (B, T)
    padded with -1, `lengths` (B,) real steps per clip, `video_index` (B,), with T = max T_b.
    """
    if not items:
        raise GtalignError("collate_clips: expected at least one clip, got an empty list")
    total = max(int(item["steps"].shape[0]) for item in items)
    return {
        "frames": torch.stack([_pad_steps(it["frames"], total) for it in items]),
        "steps": torch.stack([_pad_steps(it["steps"], total) for it in items]),
        "labels": torch.stack([_pad_steps(it["labels"], total, fill=-1) for it in items]),
        "lengths": torch.stack([torch.as_tensor(it["length"], dtype=torch.int64) for it in items]),
        "video_index": torch.stack([torch.as_tensor(it["video_index"], dtype=torch.int64) for it in items]),
    }


def iter_video_chunks(source: VideoSource, i: int, chunk: int = 64, num_context: int = 2, frame_stride: int = 15,
                      image_size: int = 112, normalize: str = "imagenet", stride: int = 1
                      ) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Every `stride`-th frame of video i with its context, in chunks for embedding:
    yields (steps (n,), frames float32 (n, C, 3, H, W)) with n <= chunk.

    The video is streamed once, front to back (`VideoSource.iter_frames`: a video file is decoded once, not once
    per chunk); a frame is preprocessed once and kept while later chunks still need it as context. The frames
    are the ones `load_frames` gives for the same indices, bit for bit.
    """
    chunk = _positive_int("chunk", chunk)
    check_normalize(normalize)
    sampler = ClipSampler(None, num_context, frame_stride, mode="all", stride=stride)
    steps, frame_indices = sampler.indices(_num_frames(source, i), np.random.default_rng(0))
    needed = np.unique(frame_indices)
    stream = zip(needed.tolist(), source.iter_frames(i, needed))
    decoded: dict[int, np.ndarray] = {}  # uint8 frames read from the stream, not preprocessed yet
    cache: dict[int, torch.Tensor] = {}
    last = -1  # the last frame index read from the stream
    for start in range(0, len(steps), chunk):
        idx = frame_indices[start:start + chunk]
        lowest, highest = int(idx.min()), int(idx.max())  # both never decrease from chunk to chunk
        while last < highest:
            item = next(stream, None)
            if item is None:
                raise GtalignError(f"video {source.entries[i].id!r} gave fewer frames than its {len(needed)} "
                                   f"needed ones (up to frame {int(needed[-1])})")
            last, frame = item
            decoded[last] = frame
        cache = {j: f for j, f in cache.items() if j >= lowest}
        decoded = {j: f for j, f in decoded.items() if j >= lowest}
        missing = np.setdiff1d(np.unique(idx), np.fromiter(cache, dtype=np.int64, count=len(cache)))
        if missing.size:
            new = preprocess_frames(np.stack([decoded.pop(j) for j in missing.tolist()]), image_size, normalize)
            cache.update(zip(missing.tolist(), new))
        frames = torch.stack([cache[j] for j in idx.reshape(-1).tolist()])
        yield steps[start:start + chunk], frames.reshape(*idx.shape, *frames.shape[1:])
