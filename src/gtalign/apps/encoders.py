"""Frame encoders: per-frame embeddings (T, D) and last-conv-layer maps (T, K, h, w) of a video.

- `CheckpointEncoder`: a trained gtalign checkpoint (each frame with its training context frames).
- `ImagenetEncoder`: no learning; the conv4 maps of an ImageNet MobileNetV2 (local weights file), average-pooled
  to a small grid, centred per video (the mean over its frames removed, so what stays is what changes in time)
  and L2-normalised.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gtalign.data.sampling import iter_video_chunks
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.models import IMAGENET, Embedder
from gtalign.models.folded import FoldedTrunk
from gtalign.train.embed import file_sha1, iter_feature_clips, load_embedder, whole_sequence
from gtalign.train.features import frozen_trunk_cache, weights_digest
from gtalign.train.trainer import choose_device

CHUNK = 32  # frames per forward pass


class FrameEncoder(Protocol):
    """What the applications need from an embedding network."""

    description: str
    fingerprint: str  # changes whenever the embeddings would (used to reuse saved indexes)

    def encode(self, source: VideoSource, i: int) -> np.ndarray:
        """L2-normalised float32 embeddings (T, D) of every frame of video i."""

    def conv_maps(self, source: VideoSource, i: int) -> np.ndarray:
        """float32 maps (T, K, h, w) of the last conv layer for every frame of video i (for CAM)."""


def _device(name: str) -> torch.device:
    return choose_device(name)


class CheckpointEncoder:
    """Embeddings from a trained checkpoint (`gtalign.train.embed.load_embedder`)."""

    def __init__(self, checkpoint: str | Path, device: str = "auto", feature_cache: str | Path | None = None):
        checkpoint = Path(checkpoint)
        try:
            self.model, self.config = load_embedder(checkpoint)
        except (RuntimeError, KeyError, TypeError) as e:  # state_dict does not fit the config's network
            raise GtalignError(f"checkpoint {checkpoint} does not match the network its config describes: "
                               f"{str(e).splitlines()[0]}") from e
        self.device = _device(device)
        self.model.to(self.device)
        self.feature_cache = None if feature_cache is None else Path(feature_cache)
        self.description = f"checkpoint {checkpoint}"
        self.fingerprint = "ckpt-" + file_sha1(checkpoint / "last.pt" if checkpoint.is_dir() else checkpoint)[:16]

    @torch.no_grad()
    def _trunk_maps(self, source: VideoSource, i: int) -> torch.Tensor:
        """Trunk maps (T, F, h, w) of every frame, each computed once (a frame is also context of later frames).

        With `feature_cache` (the training's cache folder, for a frozen trunk), maps cached there are read instead.
        """
        self.model.eval()

        cache = frozen_trunk_cache(self.feature_cache, source, self.model, self.config.data.image_size)
        cached = None if cache is None else cache.cached(i)
        if cached is not None:
            return torch.from_numpy(cached).to(self.device)
        parts = [self.model.trunk_features(frames[:, 0].to(self.device))
                 for _, frames in iter_video_chunks(source, i, CHUNK, 0, 1, self.config.data.image_size, "imagenet")]
        return torch.cat(parts)

    def _embed(self, source: VideoSource, i: int, return_maps: bool):
        """Per chunk of frames: what `Embedder.embed_features` gives for each frame with its context frames."""
        d = self.config.data
        return iter_feature_clips(self.model, self._trunk_maps(source, i), d.num_context, d.frame_stride, CHUNK,
                                  self.device, return_maps)

    def encode(self, source: VideoSource, i: int) -> np.ndarray:
        """As `gtalign.train.embed.embed_video`, with each frame's trunk maps computed once."""
        return whole_sequence(self.model, list(self._embed(source, i, False)))

    def conv_maps(self, source: VideoSource, i: int) -> np.ndarray:
        """The last 3D conv layer's maps at each frame's own time slice (the newest of its context): (T, K, h, w)."""
        return np.concatenate([m[0, :, :, -1].float().cpu().numpy() for _, m in self._embed(source, i, True)])


class ImagenetEncoder:
    """Pooled, per-video centred conv4 features of an ImageNet MobileNetV2 (no training needed)."""

    trunk = "mobilenet_v2"

    def __init__(self, image_size: int = 224, grid: int = 4, device: str = "auto"):
        self.image_size, self.grid = int(image_size), int(grid)
        self.device = _device(device)
        self.embedder = Embedder(self.trunk, IMAGENET, regime="frozen", conv_channels=8, fc_channels=8,
                                 embedding_dim=8).eval().to(self.device)  # only its trunk is used
        self.maps = FoldedTrunk(self.embedder.trunk)
        self.description = f"ImageNet {self.trunk} conv4 features ({self.grid}x{self.grid} grid, {image_size}px)"

        self.fingerprint = f"imagenet-{self.trunk}-{weights_digest(self.embedder.trunk)}-{image_size}-{grid}"

    @torch.no_grad()
    def conv_maps(self, source: VideoSource, i: int) -> np.ndarray:
        """The trunk's conv4 maps (T, F, h, w)."""
        parts = [self.maps(frames[:, 0].to(self.device)).float().cpu().numpy()
                 for _, frames in iter_video_chunks(source, i, CHUNK, 0, 1, self.image_size, "imagenet")]
        return np.concatenate(parts)

    def encode(self, source: VideoSource, i: int) -> np.ndarray:
        maps = torch.from_numpy(self.conv_maps(source, i))
        pooled = F.adaptive_avg_pool2d(maps, self.grid).flatten(1)
        centred = pooled - pooled.mean(dim=0, keepdim=True)
        return F.normalize(centred, dim=1).numpy().astype(np.float32)


def make_encoder(checkpoint: str | Path | None = None, device: str = "auto") -> FrameEncoder:
    """The encoder of `checkpoint`, or the ImageNet encoder when it is None."""
    return ImagenetEncoder(device=device) if checkpoint is None else CheckpointEncoder(checkpoint, device)


def encode_all(encoder: FrameEncoder, source: VideoSource, progress: bool = True) -> list[np.ndarray]:
    """Embeddings (T_i, D) of every video of `source`, with a progress bar."""
    return [encoder.encode(source, i) for i in tqdm(range(len(source)), desc="embed videos", unit="video",
                                                     disable=not progress)]
