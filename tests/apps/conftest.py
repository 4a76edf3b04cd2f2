"""Videos with a known time warp, an encoder that reads it back from the pixels, and small real checkpoints.

`coded_frames(u)` draws frame t as a solid colour that encodes its canonical time u[t] in [0, 1] (red rises, green
falls); `PixelEncoder` embeds a frame as its mean colour, so embeddings are a strongly structured, known function of
canonical time. Tests on it prove the pipeline (decoding, frame rates, DTW, outputs) recovers a known warp; they do
not measure how good a learned representation is (the ImageNet and trained-checkpoint tests do that).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gtalign.data.source import VideoSource
from gtalign.data.video import write_video

torch.set_num_threads(1)


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


def decode_u(emb: np.ndarray) -> np.ndarray:
    """Canonical time from a PixelEncoder embedding (inverse of the red channel)."""
    return (emb[:, 0] * 255.0 - 40) / 180


class PixelEncoder:
    """Mean colour of each frame, in [0, 1] (a FrameEncoder for coded videos)."""

    description = "mean frame colour (test encoder)"
    fingerprint = "pixel-mean-v1"

    def encode(self, source: VideoSource, i: int) -> np.ndarray:
        return source.read_frames(i).mean(axis=(1, 2)).astype(np.float32) / 255.0

    def conv_maps(self, source: VideoSource, i: int) -> np.ndarray:
        frames = source.read_frames(i)[:, ::8, ::8].astype(np.float32)
        return frames.transpose(0, 3, 1, 2)


@pytest.fixture
def pixel_encoder() -> PixelEncoder:
    return PixelEncoder()


def nearest_frame(u_a: np.ndarray, u_b: np.ndarray) -> np.ndarray:
    """Ground truth: for each frame of A the frame of B with the nearest canonical time."""
    return np.abs(u_b[None, :] - u_a[:, None]).argmin(axis=1)


def needs_weights() -> None:
    from gtalign.models.weights import weights_dir

    if not (weights_dir() / "mobilenet_v2-b0353104.pth").is_file():
        pytest.skip(f"ImageNet MobileNetV2 weights not in {weights_dir()} (make weights installs them)")


@pytest.fixture(scope="session")
def synth_manifest(tmp_path_factory) -> Path:
    """A small synthetic action dataset (2 actions x 3 videos, 30-45 frames of 64 px) with canonical times."""
    from gtalign.data.synth import generate_dataset

    return generate_dataset(tmp_path_factory.mktemp("synth"), num_classes=2, videos_per_class=3, min_frames=30,
                            max_frames=45, image_size=64, seed=3, workers=1, progress=False)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, synth_manifest) -> Path:
    """A real (if barely trained) checkpoint: 3 GTA steps of a tiny head on frozen ImageNet features, 64 px."""
    needs_weights()
    from gtalign.apps.fit import FitSettings, fit_embedder
    from gtalign.data import open_source

    source = open_source(synth_manifest)
    settings = FitSettings(steps=3, image_size=64, num_steps=8, head_channels=8, embedding_dim=16, device="cpu")
    return fit_embedder(source, tmp_path_factory.mktemp("fit"), settings, progress=False)
