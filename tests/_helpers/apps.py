"""Videos with a known time warp, an encoder that reads it back from the pixels, structured embeddings.

`coded_frames(u)` draws frame t as a solid colour that encodes its canonical time u[t] in [0, 1] (red rises, green
falls); `PixelEncoder` embeds a frame as its mean colour, so embeddings are a strongly structured, known function of
canonical time. Tests on it prove the pipeline (decoding, frame rates, DTW, outputs) recovers a known warp; they do
not measure how good a learned representation is (the ImageNet and trained-checkpoint tests do that).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gtalign.data.source import VideoSource
from gtalign.data.video import write_video


def coded_frames(u: np.ndarray, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    u = np.asarray(u, dtype=np.float64)
    colours = np.stack([40 + 180 * u, 220 - 180 * u, 60 + 120 * np.sin(np.pi * u)], axis=1)
    return np.broadcast_to(colours.round().astype(np.uint8)[:, None, None, :], (len(u), *size, 3)).copy()

def write_coded(path: Path, u: np.ndarray, fps: float = 30.0, folder: bool = False) -> Path:
    """A video file (mpeg4, near-lossless) or a folder of PNG frames showing canonical times `u`."""
    frames = coded_frames(u)
    if not folder:
        return write_video(path, frames, fps=fps, quality=2)
    from PIL import Image

    path.mkdir(parents=True, exist_ok=True)
    for t, f in enumerate(frames):
        Image.fromarray(f).save(path / f"{t:06d}.png")
    return path

class PixelEncoder:
    """Mean colour of each frame, in [0, 1] (a FrameEncoder for coded videos)."""

    description = "mean frame colour (test encoder)"
    fingerprint = "pixel-mean-v1"

    def encode(self, source: VideoSource, i: int) -> np.ndarray:
        return source.read_frames(i).mean(axis=(1, 2)).astype(np.float32) / 255.0

    def conv_maps(self, source: VideoSource, i: int) -> np.ndarray:
        frames = source.read_frames(i)[:, ::8, ::8].astype(np.float32)
        return frames.transpose(0, 3, 1, 2)


def nearest_frame(u_a: np.ndarray, u_b: np.ndarray) -> np.ndarray:
    """Ground truth: for each frame of A the frame of B with the nearest canonical time."""
    return np.abs(u_b[None, :] - u_a[:, None]).argmin(axis=1)


def warp_frame_error(u_a: np.ndarray, u_b: np.ndarray, frame_b: np.ndarray) -> float:
    """Mean distance from each aligned frame of B to the nearest frame of B showing A's canonical time (ties in
    canonical time, as in pauses, all count as right)."""
    u_a, u_b = np.asarray(u_a, dtype=np.float64), np.asarray(u_b, dtype=np.float64)
    gap = np.abs(u_b[None, :] - u_a[:, None])
    right = gap <= gap.min(axis=1, keepdims=True) + 1e-9
    return float(np.mean([np.abs(np.flatnonzero(right[i]) - frame_b[i]).min() for i in range(len(u_a))]))


def needs_weights() -> None:
    from gtalign.models.weights import weights_dir

    if not (weights_dir() / "mobilenet_v2-b0353104.pth").is_file():
        pytest.skip(f"ImageNet MobileNetV2 weights not in {weights_dir()} (make weights installs them)")


def embed_u(u: np.ndarray) -> np.ndarray:
    """A strongly structured embedding of canonical time u in [0, 1]: unit vectors on a curve that never repeats."""
    k = np.arange(1, 4)
    e = np.concatenate([np.cos(np.pi * np.outer(u, k)), np.sin(np.pi * np.outer(u, k))], axis=1)
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


def warp(n: int, knots_t, knots_u) -> np.ndarray:
    """Canonical times of n frames, piecewise linear through (t, u) knots (t in [0, 1])."""
    return np.interp(np.linspace(0, 1, n), knots_t, knots_u)


U_A = warp(60, [0, 0.3, 0.5, 1], [0, 0.5, 0.6, 1])                  # fast, slow, medium
U_B = warp(95, [0, 0.2, 0.35, 0.8, 1], [0, 0.15, 0.15, 0.9, 1])     # slow start, a pause, fast
