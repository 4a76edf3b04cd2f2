"""Per-frame feature streams of a video for alignment, extracted in one decoding pass.

Streams (``STREAMS``):

- ``pose``: BlazePose descriptors that change little with the viewpoint (`gtalign.apps.pose`), with velocities.
- ``crop``: ImageNet MobileNetV2 conv4 features of a square crop around the person (the pose box), so that the
  background, which differs between cameras, counts less; the whole frame where no person is found.
- ``imagenet``: the same features of the whole frame.

Each stream is centred per video (what stays is what changes in time). `FeatureSpec` names the streams to use and
their weights, e.g. ``"pose+crop:0.5"``; `stream_costs` turns two videos' streams into one cost matrix: each stream's
costs divided by their median over the pair, then weighted and summed, so that no stream dominates by its units.
Where a video has no person on most frames the pose stream is dropped and ``crop`` falls back to the whole frame;
`VideoFeatures.notes` says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from gtalign.errors import GtalignError

STREAMS = ("pose", "crop", "imagenet")
#: The default of `gtalign align` (chosen on the real-footage benchmark, docs/results.md).
DEFAULT_FEATURES = "pose+crop:0.5+imagenet:0.5"
MIN_POSE_FRACTION = 0.5   # a video whose person is found on fewer frames than this has no pose stream
CHUNK = 32                # frames per forward pass of the trunk


@dataclass(frozen=True)
class FeatureSpec:
    """Streams and weights, parsed from ``"name[:weight]+name[:weight]..."``."""

    weights: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, text: str) -> "FeatureSpec":
        items = []
        for part in str(text).split("+"):
            name, _, weight = part.strip().partition(":")
            if name not in STREAMS:
                raise GtalignError(f"--features: unknown stream {name!r} in {text!r}; streams are {', '.join(STREAMS)} "
                                   "(combine with '+', weight with ':', e.g. 'pose+crop:0.5')")
            try:
                w = float(weight) if weight else 1.0
            except ValueError:
                raise GtalignError(f"--features: weight of {name!r} must be a number, got {weight!r}") from None
            if not np.isfinite(w) or w <= 0:
                raise GtalignError(f"--features: weight of {name!r} must be > 0, got {weight!r}")
            if name in dict(items):
                raise GtalignError(f"--features: stream {name!r} is named twice in {text!r}")
            items.append((name, w))
        return cls(tuple(items))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.weights)

    def __str__(self) -> str:
        return "+".join(n if w == 1.0 else f"{n}:{w:g}" for n, w in self.weights)


@dataclass
class VideoFeatures:
    """The streams of one video: name -> (T, D) float32, plus what happened on the way."""

    streams: dict[str, np.ndarray]
    num_frames: int
    pose_valid: np.ndarray | None = None   # (T,) bool where the pose came from a detection on the main person
    notes: list[str] = field(default_factory=list)

    @property
    def person(self) -> bool:
        """Whether a person was found on enough frames for pose features and person crops."""
        return self.pose_valid is not None and float(self.pose_valid.mean()) >= MIN_POSE_FRACTION


class _Trunk:
    """ImageNet MobileNetV2 up to conv4 (the local weights file), batched."""

    def __init__(self, image_size: int, grid: int, device: torch.device):
        from gtalign.models import IMAGENET, Embedder

        self.image_size, self.grid, self.device = image_size, grid, device
        self.embedder = Embedder("mobilenet_v2", IMAGENET, regime="frozen", conv_channels=8, fc_channels=8,
                                 embedding_dim=8).eval().to(device)

    @torch.no_grad()
    def __call__(self, frames: list[np.ndarray]) -> np.ndarray:
        """uint8 RGB frames (any sizes) -> features pooled over `grid` horizontal bands (n, F * grid)."""
        from gtalign.data.augment import normalize_frames, resize_frames, to_float_frames

        batch = torch.cat([resize_frames(to_float_frames(np.array(f[None])), self.image_size) for f in frames])
        maps = self.embedder.trunk_features(normalize_frames(batch, "imagenet").to(self.device))
        # horizontal bands (grid x 1): unchanged by a mirror image, unlike a grid of cells
        return F.adaptive_avg_pool2d(maps.float(), (self.grid, 1)).flatten(1).cpu().numpy()


def crop_square(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The square `box` (x0, y0, x1, y1) of `frame` (H, W, 3), padded with black where it leaves the frame."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    side = max(1, max(x1 - x0, y1 - y0))
    out = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = frame[sy0:sy1, sx0:sx1]
    return out


def _centre(x: np.ndarray) -> np.ndarray:
    """Per-video centring and row L2 normalisation of appearance features (T, D) -> float32."""
    c = x - x.mean(axis=0, keepdims=True)
    return (c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class FeatureExtractor:
    """Extracts the streams a `FeatureSpec` needs from a video's frames in one pass."""

    def __init__(self, spec: FeatureSpec | str = DEFAULT_FEATURES, image_size: int = 160, grid: int = 2,
                 device: str = "auto"):
        from gtalign.apps.encoders import _device

        self.spec = FeatureSpec.parse(spec) if isinstance(spec, str) else spec
        self.device = _device(device)
        self.image_size, self.grid = int(image_size), int(grid)
        self._trunk: _Trunk | None = None

    @property
    def description(self) -> str:
        return (f"features {self.spec} (pose: BlazePose descriptors; crop/imagenet: ImageNet MobileNetV2 conv4, "
                f"{self.grid} horizontal bands, {self.image_size}px)")

    def trunk(self) -> _Trunk:
        if self._trunk is None:
            self._trunk = _Trunk(self.image_size, self.grid, self.device)
        return self._trunk

    def extract(self, frames: Iterable[np.ndarray], fps: float) -> VideoFeatures:
        """The streams of one video from its uint8 RGB frames (H, W, 3), in order."""
        from gtalign.apps import pose as pose_mod

        names = set(self.spec.names)
        want_pose = bool(names & {"pose", "crop"})
        if names & {"pose", "crop"}:
            names.add("imagenet")  # the fallback where one of two videos has no person
        estimator = pose_mod.PoseEstimator() if want_pose else None
        world, image, detected = [], [], []
        crops: list[np.ndarray] = []
        whole: list[np.ndarray] = []
        crop_feats: list[np.ndarray] = []
        whole_feats: list[np.ndarray] = []
        last_box = None
        try:
            for frame in frames:
                if estimator is not None:
                    found = estimator.landmarks(frame)
                    detected.append(found is not None)
                    world.append(found[0] if found else np.zeros((33, 3)))
                    image.append(found[1] if found else np.zeros((33, 2)))
                    if found is not None:
                        last_box = _box(found[1])
                if "crop" in names:
                    crops.append(frame if last_box is None else crop_square(frame, last_box))
                    if len(crops) == CHUNK:
                        crop_feats.append(self.trunk()(crops))
                        crops = []
                if "imagenet" in names:
                    whole.append(frame)
                    if len(whole) == CHUNK:
                        whole_feats.append(self.trunk()(whole))
                        whole = []
        finally:
            if estimator is not None:
                estimator.close()
        if crops:
            crop_feats.append(self.trunk()(crops))
        if whole:
            whole_feats.append(self.trunk()(whole))
        t = len(detected) if want_pose else sum(len(f) for f in whole_feats)
        if t == 0:
            raise GtalignError("the video has no frames")
        out = VideoFeatures(streams={}, num_frames=t)
        person = False
        if want_pose:
            det = np.array(detected)
            img = np.stack(image)
            track = pose_mod.PoseTrack(world=np.stack(world), image=img, detected=det,
                                       valid=pose_mod.main_track(img, det))
            out.pose_valid = track.valid
            person = track.valid_fraction >= MIN_POSE_FRACTION
            if not person:
                out.notes.append(f"a person was found on {100 * track.valid_fraction:.0f}% of the frames (fewer than "
                                 f"{100 * MIN_POSE_FRACTION:.0f}%): no pose features, whole-frame appearance instead")
            elif "pose" in names:
                out.streams["pose"] = pose_mod.pose_features(track, fps)
        if "crop" in names:
            feats = np.concatenate(crop_feats)
            if not person:
                out.notes.append("crop: no person to crop around" if last_box is None else
                                 "crop: the person was found too rarely; crops may not follow them")
            out.streams["crop"] = _centre(feats)
        if "imagenet" in names:
            out.streams["imagenet"] = _centre(np.concatenate(whole_feats))
        return out


def pose_available() -> bool:
    """Whether MediaPipe (the `[pose]` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("mediapipe") is not None


def _box(image_points: np.ndarray, margin: float = 0.25) -> np.ndarray:
    lo, hi = image_points.min(axis=0), image_points.max(axis=0)
    centre, side = (lo + hi) / 2, float((hi - lo).max()) * (1 + 2 * margin)
    return np.r_[centre - side / 2, centre + side / 2]


def stream_cost(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) float64 costs of one stream: squared Euclidean distance (mean over dimensions for pose)."""
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    sq = (a64 ** 2).sum(1)[:, None] + (b64 ** 2).sum(1)[None] - 2.0 * a64 @ b64.T
    sq = np.maximum(sq, 0.0)
    return sq / a64.shape[1] if name == "pose" else sq


def stream_costs(spec: FeatureSpec, a: VideoFeatures, b: VideoFeatures) -> tuple[np.ndarray, list[str]]:
    """The pair's cost matrix (N, M): each stream both videos have, divided by its median, weighted, summed and
    divided by the sum of the weights used; and the names of the streams used."""
    total, used, weight = None, [], 0.0
    both = a.person and b.person
    # pose and person crops only where both videos show the person (crops of one person against whole frames of the
    # other would compare different things); whole frames otherwise
    weights = [("imagenet", w) if name == "crop" and not both else (name, w) for name, w in spec.weights
               if both or name != "pose"] or [("imagenet", 1.0)]
    merged: dict[str, float] = {}
    for name, w in weights:
        merged[name] = merged.get(name, 0.0) + w
    for name, w in merged.items():
        if name not in a.streams or name not in b.streams:
            continue
        c = stream_cost(name, a.streams[name], b.streams[name])
        c = c / max(float(np.median(c)), 1e-12)
        total = w * c if total is None else total + w * c
        used.append(name)
        weight += w
    if total is None:
        raise GtalignError(f"features {spec}: no stream is available for both videos; try --features imagenet")
    return total / weight, used

