"""Video sources: a dataset of videos that can read any frames of any video.

`open_source(path, kind="auto")` picks a reader by `kind` (or guesses it from what is at `path`); readers register
themselves with `register_source`. Every source exposes the same `VideoEntry` list as a manifest.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch.utils.data
from PIL import Image

from gtalign.data.indices import checked_indices, increasing_indices, streamed_indices
from gtalign.data.manifest import Manifest, VideoEntry, load_manifest
from gtalign.data.video import iter_video, read_video, scale_frame
from gtalign.errors import GtalignError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class VideoSource(torch.utils.data.Dataset):
    """A list of videos (`entries`) and a way to read their frames.

    `source[i]` is the `VideoEntry` of video i; `read_frames(i, indices)` returns uint8 frames (n, H, W, 3);
    `iter_frames(i, indices)` streams them in order, one (H, W, 3) at a time, for walking a whole video in pieces.
    Subclasses override `read_frames` (the default reads frame folders and video files), and `iter_frames` when
    they can stream (the default streams frame folders and video files, else reads the frames in one call).
    """

    def __init__(self, manifest: Manifest, skipped: list | None = None):
        self.manifest = manifest
        self.skipped = list(skipped or [])  # videos left out when opening (gtalign.data.scan.Skipped)

    @property
    def entries(self) -> list[VideoEntry]:
        return self.manifest.videos

    @property
    def classes(self) -> list[str]:
        return self.manifest.classes

    def __len__(self) -> int:
        return len(self.manifest.videos)

    def __getitem__(self, i: int) -> VideoEntry:
        return self.manifest.videos[i]

    def read_frames(self, i: int, indices: np.ndarray | None = None) -> np.ndarray:
        """Frames of video i at `indices` (all frames when None) as uint8 (n, H, W, 3)."""
        return read_path_frames(self.entries[i].path, indices)

    def iter_frames(self, i: int, indices: np.ndarray | None = None,
                    max_side: int | None = None) -> Iterator[np.ndarray]:
        """Frames of video i at strictly increasing `indices` (all when None), one uint8 (H, W, 3) at a time,
        scaled down so that max(H, W) <= `max_side` when given (`data.video.scaled_size`).

        A video file is decoded once, front to back (linear in its length, unlike one `read_frames` per piece).
        """
        if type(self).read_frames is not VideoSource.read_frames:  # a reader of its own: one call
            for frame in self.read_frames(i, increasing_indices(indices, self.entries[i].id)):
                yield scale_frame(frame, max_side)
            return
        yield from iter_path_frames(self.entries[i].path, indices, max_side)


def list_frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _frame_files(folder: Path) -> list[Path]:
    files = list_frame_files(folder)
    if not files:
        raise GtalignError(f"frame folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _read_image(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as e:  # truncated, corrupt or not an image
        raise GtalignError(f"frame {path} cannot be decoded ({e}); replace or remove it") from e


def read_frame_folder(folder: Path, indices: np.ndarray | None = None) -> np.ndarray:
    """Decode the frames of a frame folder at `indices` (all when None) to uint8 (n, H, W, 3)."""
    files = _frame_files(folder)
    idx = checked_indices(indices, len(files), str(folder))
    cache: dict[int, np.ndarray] = {}
    out = []
    for j in idx.tolist():
        if j not in cache:
            cache[j] = _read_image(files[j])
        out.append(cache[j])
    return np.stack(out)


def iter_path_frames(path: Path, indices: np.ndarray | None = None,
                     max_side: int | None = None) -> Iterator[np.ndarray]:
    """`read_path_frames` one uint8 (H, W, 3) frame at a time, at strictly increasing `indices` (all when None),
    scaled down to `max_side` when given; a video file is decoded once, front to back."""
    if not Path(path).is_dir():
        yield from iter_video(path, indices, max_side)
        return
    files = _frame_files(path)
    for j in streamed_indices(indices, len(files), str(path)):
        yield scale_frame(_read_image(files[j]), max_side)


def read_path_frames(path: Path, indices: np.ndarray | None = None) -> np.ndarray:
    """Frames of a frame folder or a video file at `indices` (all when None) as uint8 (n, H, W, 3)."""
    if Path(path).is_dir():
        return read_frame_folder(path, indices)
    return read_video(path, indices)


Opener = Callable[..., VideoSource]
_OPENERS: dict[str, Opener] = {}
_DETECTORS: list[tuple[str, Callable[[Path], bool]]] = []
_CATCH_ALL: set[str] = set()


def register_source(kind: str, detect: Callable[[Path], bool] | None = None,
                    catch_all: bool = False) -> Callable[[Opener], Opener]:
    """Register `opener(path, split=None, progress=True, **kw) -> VideoSource` under `kind` (`progress`: whether
    checking the videos may show a progress bar); `detect(path)` enables kind="auto". A `catch_all` detector (one
    that accepts almost any folder) is tried only after every other, whatever the order of registration."""

    def wrap(fn: Opener) -> Opener:
        _OPENERS[kind] = fn
        if detect is not None:
            _DETECTORS.append((kind, detect))
            _DETECTORS.sort(key=lambda d: d[0] in _CATCH_ALL)  # stable: registration order otherwise
        return fn

    if catch_all:
        _CATCH_ALL.add(kind)

    return wrap


def available_sources() -> list[str]:
    return sorted(_OPENERS)


def detect_kind(path: str | Path) -> str:
    """The kind of dataset at `path`: the first registered reader whose detector accepts it, catch-alls last."""
    path = Path(path)
    if not path.exists():
        raise GtalignError(f"dataset path does not exist: {path}")
    for name, detect in _DETECTORS:
        if detect(path):
            return name
    raise GtalignError(f"cannot tell what kind of dataset {path} is; pass kind= one of {available_sources()}")


def open_source(path: str | os.PathLike, kind: str = "auto", split: str | None = None, progress: bool = True,
                **kwargs) -> VideoSource:
    """Open a dataset at `path` as a `VideoSource` of kind `kind` (see `available_sources()`); `progress=False`
    hides the progress bar of the readers that check every video when opening."""
    path = Path(path)
    if kind == "auto":
        kind = detect_kind(path)
    elif not path.exists():
        raise GtalignError(f"dataset path does not exist: {path}")
    if kind not in _OPENERS:
        raise GtalignError(f"unknown dataset kind {kind!r}; expected one of {available_sources()}")
    return _OPENERS[kind](path, split=split, progress=progress, **kwargs)


def _is_manifest(path: Path) -> bool:
    return (path.is_file() and path.suffix == ".json") or (path / "manifest.json").is_file()


@register_source("manifest", detect=_is_manifest)
def open_manifest(path: Path, split: str | None = None, progress: bool = True) -> VideoSource:
    """A gtalign manifest (a `manifest.json` file or a folder holding one; nothing to check, so no bar)."""
    return VideoSource(load_manifest(path).split(split))
