"""Videos for people: browser-playable encoding and the side-by-side view of two aligned videos."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np
from PIL import Image
from tqdm import tqdm

from gtalign.data.video import write_video
from gtalign.errors import GtalignError, describe
from gtalign.ops import path_to_mapping
from gtalign.viz.alignment import check_path

BAR_HEIGHT = 8  # pixels of the progress bar under each video


@lru_cache(maxsize=1)
def browser_codec() -> tuple[str, str]:
    """(codec, suffix) that Chromium plays: H.264 in mp4 when PyAV's ffmpeg has libx264, else VP9 in webm."""
    for codec, suffix in (("libx264", ".mp4"), ("libvpx-vp9", ".webm")):
        try:
            av.codec.Codec(codec, "w")
            return codec, suffix
        except Exception:  # av raises UnknownCodecError (a ValueError) or FFmpegError by version
            continue
    raise GtalignError("PyAV's ffmpeg can encode neither H.264 (libx264) nor VP9 (libvpx-vp9); "
                       "install a PyAV wheel with its bundled ffmpeg")


def write_browser_video(frames: np.ndarray | Iterable[np.ndarray], out: str | Path, fps: float) -> Path:
    """Encode uint8 frames (T, H, W, 3), or an iterable of frames of one size, so a browser plays them; returns the
    file written.

    The suffix of `out` is replaced by the codec's container (.mp4 for H.264, .webm for VP9).
    """
    codec, suffix = browser_codec()
    return write_video(Path(out).with_suffix(suffix), frames, fps=fps, codec=codec)


def _resize_to_height(frames: np.ndarray, height: int) -> np.ndarray:
    if frames.shape[1] == height:
        return frames
    width = max(2, round(frames.shape[2] * height / frames.shape[1]))
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.BILINEAR)) for f in frames])


def _bar(width: int, fraction: float, color: tuple[int, int, int]) -> np.ndarray:
    bar = np.full((BAR_HEIGHT, width, 3), 40, np.uint8)
    bar[:, : int(round(np.clip(fraction, 0.0, 1.0) * width))] = color
    return bar


def iter_side_by_side(frames_a: np.ndarray, frames_b: np.ndarray, path_pairs: np.ndarray,
                      progress: bool = True) -> Iterator[np.ndarray]:
    """Frames of A next to the frames of B matched to them, each with a progress bar under it, one at a time.

    frames_a: uint8 (N, H, W, 3); frames_b: uint8 (M, H', W', 3) (resized to height H); path_pairs: (P, 2) with
    rows covering 0..N-1. Frame i shows A's frame i and B's frame nearest to the mean of B's frames matched to i.
    Yields N uint8 frames (H + BAR_HEIGHT, W + W_b, 3). The inputs are checked before the first frame.
    """
    for name, f in (("frames_a", frames_a), ("frames_b", frames_b)):
        if f.ndim != 4 or f.shape[-1] != 3 or f.dtype != np.uint8 or len(f) == 0:
            raise GtalignError(f"{name} must be non-empty uint8 (T, H, W, 3), got {describe(f)}")
    n, m = len(frames_a), len(frames_b)
    pairs = check_path(path_pairs, n, m, "path_pairs")
    b_index = np.rint(path_to_mapping(pairs, n)).astype(np.int64)
    frames_b = _resize_to_height(frames_b, frames_a.shape[1])

    def frames() -> Iterator[np.ndarray]:
        for i in tqdm(range(n), desc="side-by-side", unit="frame", leave=False, disable=not progress):
            j = int(b_index[i])
            a = np.concatenate([frames_a[i], _bar(frames_a.shape[2], (i + 1) / n, (230, 80, 60))], axis=0)
            b = np.concatenate([frames_b[j], _bar(frames_b.shape[2], (j + 1) / m, (60, 160, 230))], axis=0)
            yield np.concatenate([a, b], axis=1)
    return frames()


def side_by_side_frames(frames_a: np.ndarray, frames_b: np.ndarray, path_pairs: np.ndarray,
                        progress: bool = True) -> np.ndarray:
    """All frames of `iter_side_by_side` as one uint8 array (N, H + BAR_HEIGHT, W + W_b, 3)."""
    return np.stack(list(iter_side_by_side(frames_a, frames_b, path_pairs, progress)))


def write_side_by_side(frames_a: np.ndarray, frames_b: np.ndarray, path_pairs: np.ndarray, out: str | Path,
                       fps: float, progress: bool = True) -> Path:
    """Write the side-by-side video (B re-timed to A, see `side_by_side_frames`) at A's frame rate `fps`.

    It has exactly N = len(frames_a) frames; returns the file written (suffix as in `write_browser_video`).
    """
    if not fps > 0:
        raise GtalignError(f"fps must be > 0, got {fps!r}")
    return write_browser_video(iter_side_by_side(frames_a, frames_b, path_pairs, progress), out, fps)
