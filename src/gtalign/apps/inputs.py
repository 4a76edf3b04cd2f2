"""The videos a user gives: video files or frame folders, as one `VideoSource` with their frame rates."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.train.embed import videos_source


def open_videos(paths: Sequence[str | Path], fps: float | None = None, minimum: int = 1,
                what: str = "videos") -> VideoSource:
    """A source of the video files / frame folders `paths`, in the order given.

    Frame counts are checked by reading (an unreadable file is a GtalignError naming it). Video files keep
    their own frame rate; frame folders get `fps` (default 30). Ids are the file or folder names, made distinct
    where they clash (`gtalign.train.embed.video_ids`).
    """
    files = [Path(p) for p in paths]
    if len(files) < minimum:
        raise GtalignError(f"{what}: expected at least {minimum} video file(s) or frame folder(s), got {len(files)}")
    for p in files:
        if not p.exists():
            raise GtalignError(f"{what}: {p} does not exist; expected a video file or a folder of frames")
    if fps is not None and not fps > 0:
        raise GtalignError(f"fps must be > 0 frames per second, got {fps}")
    source = videos_source(files)  # a truncated video file is reported there (data.scan.check_entry)
    if fps is not None:
        source.manifest.videos = [dataclasses.replace(e, fps=float(fps)) if Path(e.path).is_dir() else e
                                  for e in source.entries]
    return source


def parse_frame_ref(text: str) -> tuple[Path, int]:
    """`VIDEO:FRAME` -> (path, frame index), e.g. `clips/a.mp4:42`."""
    path, sep, frame = str(text).rpartition(":")
    if not sep or not path or not frame.strip().lstrip("-").isdigit():
        raise GtalignError(f"query must be VIDEO:FRAME (a video file or frame folder and a frame index), got {text!r}")
    return Path(path), int(frame)


def read_display_frames(source: VideoSource, i: int, max_side: int = 480) -> np.ndarray:
    """All frames of video i as uint8 (T, H, W, 3), scaled down (never up) so that max(H, W) <= max_side.

    The video is streamed once (`VideoSource.iter_frames`) and each frame scaled as it is decoded, so only the
    scaled frames are held.
    """
    n = source.entries[i].num_frames
    return np.stack(list(source.iter_frames(i, np.arange(n), max_side=max_side)))
