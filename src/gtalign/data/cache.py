"""A disk cache of decoded frames, so that training does not decode the same video every epoch.

Each video is decoded once, resized so that its short side is `size` (None keeps the size) and stored as a
uint8 `.npy` array (num_frames, H, W, 3), written atomically. The file name is a hash of the video's path,
modification time and size in bytes, its id and position inside the file (TFRecord offset, FineGym event span)
and `size`, so an edited video is decoded again. `CachedSource` wraps any source with the same interface.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterator

import numpy as np

from gtalign.data.indices import checked_indices, streamed_indices
from gtalign.data.manifest import VideoEntry
from gtalign.data.scan import keep_readable
from gtalign.data.source import VideoSource
from gtalign.data.video import resize_short_side, scale_frame
from gtalign.errors import GtalignError
from gtalign.io import atomic_save_npy


def cache_key(entry: VideoEntry, size: int | None) -> str:
    """A hex digest identifying the decoded frames of `entry` at `size`."""
    path = Path(entry.path)
    try:
        stat = path.stat()
    except OSError as e:
        raise GtalignError(f"video not found: {path}") from e
    where = {k: entry.meta[k] for k in ("tfrecord_offset", "start", "end") if k in entry.meta}
    text = json.dumps([str(path.resolve()), stat.st_mtime_ns, stat.st_size, entry.id, where, entry.fps, size])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedSource(VideoSource):
    """`source` with its decoded frames cached in `cache_dir` at short side `size` (same entries, same API)."""

    def __init__(self, source: VideoSource, cache_dir: str | Path, size: int | None = None):
        super().__init__(source.manifest, source.skipped)
        if size is not None and size < 1:
            raise GtalignError(f"size must be a positive number of pixels or None, got {size}")
        self.source = source
        self.cache_dir = Path(cache_dir)
        self.size = size

    def cache_path(self, i: int) -> Path:
        return self.cache_dir / f"{cache_key(self.entries[i], self.size)}.npy"

    def frames(self, i: int) -> np.ndarray:
        """All frames of video i, uint8 (n, H, W, 3), memory-mapped from the cache (decoded first if missing)."""
        path = self.cache_path(i)
        if not path.is_file():
            frames = np.ascontiguousarray(resize_short_side(self.source.read_frames(i), self.size))
            atomic_save_npy(path, frames)
        return np.load(path, mmap_mode="r")

    def read_frames(self, i: int, indices: np.ndarray | None = None) -> np.ndarray:
        frames = self.frames(i)
        if indices is None:
            return np.array(frames)
        return np.array(frames[checked_indices(indices, len(frames), self.entries[i].id)])

    def iter_frames(self, i: int, indices: np.ndarray | None = None,
                    max_side: int | None = None) -> Iterator[np.ndarray]:
        frames, what = self.frames(i), self.entries[i].id
        for j in streamed_indices(indices, len(frames), what):
            yield scale_frame(np.array(frames[j]), max_side)

    def prepare(self, workers: int = 2) -> int:
        """Decode every video not yet cached (worker pool, progress bar); returns how many were decoded.

        Videos that fail to decode are reported and skipped (they raise again when read).
        """
        todo = [i for i in range(len(self)) if not self.cache_path(i).is_file()]
        if todo:
            done, _ = keep_readable(todo, lambda i: self.frames(i) is not None, lambda i: str(self.entries[i].path),
                                    f"caching {self.manifest.name}", workers=workers, desc="caching frames")
            return len(done)
        return 0
