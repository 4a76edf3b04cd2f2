"""Per-frame feature streams of a video for alignment, extracted in one decoding pass.

Streams (``STREAMS``):

- ``pose``: BlazePose descriptors that change little with the viewpoint (`gtalign.apps.pose`), with velocities.
- ``crop``: ImageNet MobileNetV2 conv4 features of a square crop around the person (the pose box), so that the
  background, which differs between cameras, counts less; the whole frame where no person is found.
- ``imagenet``: the same features of the whole frame, averaged over the bands (one descriptor for the whole frame).
  The banded features are kept beside it as ``imagenet_bands`` (not a stream one can name; `banded_whole_frames`
  puts them in its place, for `gtalign sync`).
- ``motion``: how much the frame changes from the one before (absolute differences of small grey frames) in each of
  `MOTION_BANDS` horizontal bands and over the whole frame, log-compressed and standardised per video: where a
  small thing moves in a still scene (a ball, a hand, a pedestrian), whole-frame appearance hardly changes, motion
  does. Bands, not cells, so a mirror leaves it unchanged.

Each stream is centred per video (what stays is what changes in time). `FeatureSpec` names the streams to use and
their weights, e.g. ``"pose+crop:0.5"``; `stream_costs` turns two videos' streams into one cost matrix: each stream's
costs divided by their median over the pair, then weighted and summed, so that no stream dominates by its units.
Where a video has no person on most frames the pose stream is dropped and ``crop`` falls back to the whole frame,
and ``motion`` joins whole-frame appearance with `FALLBACK_MOTION` of the weight; `VideoFeatures.notes` says so.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, cast

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.ndimage import gaussian_filter

from gtalign.apps import pose as pose_mod
from gtalign.apps.encoders import _device
from gtalign.apps.pose import normalise_per_video, smooth_in_time
from gtalign.data.augment import normalize_frames, resize_frames, to_float_frames
from gtalign.data.source import VideoSource
from gtalign.data.video import scale_frame
from gtalign.errors import GtalignError
from gtalign.io import atomic_save
from gtalign.models import IMAGENET, Embedder
from gtalign.models.folded import FoldedTrunk
from gtalign.ops import sqeuclidean_cost

STREAMS = ("pose", "crop", "imagenet", "motion")
#: The default of `gtalign align` (chosen on the real-footage benchmark, docs/results.md).
DEFAULT_FEATURES = "pose+crop:0.5+imagenet:0.5"
MIN_POSE_FRACTION = 0.5   # a video whose person is found on fewer frames than this has no pose stream
CHUNK = 32                # frames per forward pass of the trunk
#: Bumped whenever a stream's definition changes, so caches of extracted features (benchmarks) are not reused.
FEATURES_VERSION = 8  # 8: detections put into person slots by where each person was last seen
MOTION_SIDE = 96          # width (pixels) of the grey frames the motion stream compares
#: Frames are scaled to this longest side (pixels) once, as they are decoded, and every stream works from that
#: copy: BlazePose looks at this size anyway, and the person crops and whole frames go to the trunk at 224 px.
WORKING_SIDE = pose_mod.POSE_SIDE
MOTION_BANDS = 4
MOTION_SMOOTH_S = 0.03    # the motion energies are smoothed over this many seconds
#: In the whole-frame fallback of a spec with person streams, motion may join appearance with this share of the
#: weights used (chosen on the real-footage benchmark: 0.25 with 4 bands; docs/results.md); `apps.align` keeps it
#: only where it makes the pair's same-process z higher.
FALLBACK_MOTION = 0.25


@dataclass(frozen=True)
class FeatureSpec:
    """Streams and weights, parsed from ``"name[:weight]+name[:weight]..."``."""

    weights: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, text: str) -> "FeatureSpec":
        items: list[tuple[str, float]] = []
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
class Person:
    """One tracked person's streams ("pose", "crop": (T, D) float32) and the frames where BlazePose found them."""

    valid: np.ndarray                  # (T,) bool
    streams: dict[str, np.ndarray]

    @property
    def fraction(self) -> float:
        return float(self.valid.mean()) if len(self.valid) else 0.0


@dataclass
class VideoFeatures:
    """The streams of one video: whole-frame streams (name -> (T, D) float32), the people found on enough frames
    (most often found first), and what happened on the way."""

    streams: dict[str, np.ndarray]
    num_frames: int
    people: list[Person] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def person(self) -> bool:
        """Whether a person was found on enough frames for pose features and person crops."""
        return bool(self.people)

    def save(self, path: str | Path) -> None:
        """Write to an ``.npz`` file (plain arrays, no pickles), atomically."""
        arrays: dict[str, Any] = {"num_frames": self.num_frames, "people": len(self.people),
                                  "notes": np.array(self.notes, dtype=str)}
        arrays |= {f"s_{k}": v for k, v in self.streams.items()}
        for i, person in enumerate(self.people):
            arrays[f"p{i}_valid"] = person.valid
            arrays |= {f"p{i}_{k}": v for k, v in person.streams.items()}
        atomic_save(path, lambda tmp: np.savez(tmp, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> "VideoFeatures":
        with np.load(Path(path), allow_pickle=False) as z:
            people = []
            for i in range(int(z["people"])):
                streams = {k.split("_", 1)[1]: z[k] for k in z.files if k.startswith(f"p{i}_") and k != f"p{i}_valid"}
                people.append(Person(z[f"p{i}_valid"], streams))
            return cls({k[2:]: z[k] for k in z.files if k.startswith("s_")}, int(z["num_frames"]), people,
                       [str(n) for n in z["notes"]])


class _Trunk:
    """ImageNet MobileNetV2 up to conv4 (the local weights file), batched, its BatchNorm folded (`FoldedTrunk`)."""

    def __init__(self, image_size: int, grid: int, device: torch.device):
        self.image_size, self.grid, self.device = image_size, grid, device
        self.embedder = Embedder("mobilenet_v2", IMAGENET, regime="frozen", conv_channels=8, fc_channels=8,
                                 embedding_dim=8).eval().to(device)
        self.maps = FoldedTrunk(self.embedder.trunk)

    @torch.no_grad()
    def __call__(self, frames: list[np.ndarray]) -> np.ndarray:
        """uint8 RGB frames (any sizes) -> features pooled over `grid` horizontal bands (n, F * grid)."""
        batch = torch.cat([resize_frames(to_float_frames(np.array(f[None])), self.image_size) for f in frames])
        maps = self.maps(normalize_frames(batch, "imagenet").to(self.device))
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


class _Motion:
    """The motion stream of one video, frame by frame (module docstring)."""

    def __init__(self) -> None:
        self.previous: np.ndarray | None = None
        self.rows: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        size = (MOTION_SIDE, max(1, round(MOTION_SIDE * h / w)))
        grey = gaussian_filter(np.asarray(Image.fromarray(frame).convert("L").resize(size, Image.Resampling.BILINEAR),
                                          dtype=np.float32), 1.0)
        if self.previous is not None and self.previous.shape == grey.shape:
            diff = np.abs(grey - self.previous)
            edges = np.linspace(0, diff.shape[0], MOTION_BANDS + 1).astype(int)
            self.rows.append(np.r_[[diff[edges[k]:edges[k + 1]].mean() for k in range(MOTION_BANDS)], diff.mean()])
        elif self.previous is not None:  # a frame of another size (a broken stream): no motion measured
            self.rows.append(self.rows[-1] if self.rows else np.zeros(MOTION_BANDS + 1))
        self.previous = grey

    def result(self, fps: float) -> np.ndarray:
        """(T, MOTION_BANDS + 1) float32; the first frame repeats the second's motion."""
        if not self.rows:  # no frame, or a single one: nothing moves
            return np.zeros((int(self.previous is not None), MOTION_BANDS + 1), dtype=np.float32)
        energy = np.log1p(np.stack([self.rows[0]] + self.rows))
        return normalise_per_video(smooth_in_time(energy, MOTION_SMOOTH_S * fps)).astype(np.float32)


def _centre(x: np.ndarray) -> np.ndarray:
    """Per-video centring and row L2 normalisation of appearance features (T, D) -> float32."""
    c = x - x.mean(axis=0, keepdims=True)
    return (c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)).astype(np.float32)


#: The key of the whole frame's banded features in `VideoFeatures.streams` (kept for `banded_whole_frames`).
BANDED = "imagenet_bands"


def banded_whole_frames(features: "VideoFeatures") -> "VideoFeatures":
    """A copy of `features` whose ``imagenet`` stream is the whole frame in horizontal bands (``imagenet_bands``)
    instead of their mean; unchanged where the bands were not kept.

    `gtalign sync` compares cameras in bands: its clocks need sub-frame precision, and on the sync benchmark the
    one-descriptor whole frame moved a camera of a still scene from 0.76 to 1.89 frames off (docs/results.md).
    """
    if BANDED not in features.streams:
        return features
    return replace(features, streams=features.streams | {"imagenet": features.streams[BANDED]})


def band_mean(x: np.ndarray, bands: int) -> np.ndarray:
    """(T, C * bands) features laid out channel-major (as `_Trunk` pools them) -> (T, C): the mean over the bands."""
    return x.reshape(len(x), -1, bands).mean(axis=-1)


class _Batches:
    """Frames (or None: use the whole frame's features) fed to the trunk CHUNK at a time; the features in order."""

    def __init__(self, trunk) -> None:
        self.trunk = trunk
        self.pending: list[np.ndarray | None] = []
        self.done: list[np.ndarray | None] = []

    def add(self, frame: np.ndarray | None) -> None:
        self.pending.append(frame)
        if len(self.pending) == CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        given = [f for f in self.pending if f is not None]
        feats = iter(self.trunk()(given) if given else ())
        self.done += [None if f is None else next(feats) for f in self.pending]
        self.pending = []

    def result(self, fallback: np.ndarray | None = None) -> np.ndarray:
        """(T, D) features; rows given as None take `fallback`'s row (T, D)."""
        self.flush()
        if fallback is None and any(f is None for f in self.done):
            raise ValueError("rows were left to a fallback, and none was given")
        return np.stack([cast(np.ndarray, fallback)[i] if f is None else f for i, f in enumerate(self.done)])


class FeatureExtractor:
    """Extracts the streams a `FeatureSpec` needs from a video's frames in one pass.

    With pose or crop streams, up to `max_people` people are tracked (`gtalign.apps.pose.PeopleEstimator`); each
    one found on at least `MIN_POSE_FRACTION` of the frames gets its own pose and crop streams (`VideoFeatures.people`).
    """

    def __init__(self, spec: FeatureSpec | str = DEFAULT_FEATURES, image_size: int = 160, grid: int = 2,
                 device: str = "auto", max_people: int = 2, stride: int = 1):
        self.spec = FeatureSpec.parse(spec) if isinstance(spec, str) else spec
        if int(stride) < 1:
            raise GtalignError(f"stride must be >= 1, got {stride!r}")
        self.stride = int(stride)
        self.device = _device(device)
        self.image_size, self.grid = int(image_size), int(grid)
        if int(max_people) < 1:
            raise GtalignError(f"max_people must be >= 1, got {max_people!r}")
        self.max_people = int(max_people)
        self._trunk: _Trunk | None = None

    @property
    def description(self) -> str:
        return (f"features {self.spec} (pose: BlazePose descriptors, up to {self.max_people} people; crop/imagenet: "
                f"ImageNet MobileNetV2 conv4, {self.grid} horizontal bands for crops, one for whole frames, "
                f"{self.image_size}px; motion: frame "
                f"differences in {MOTION_BANDS} bands)"
                + (f"; networks on one frame in {self.stride}, interpolated between" if self.stride > 1 else ""))

    def trunk(self) -> _Trunk:
        if self._trunk is None:
            self._trunk = _Trunk(self.image_size, self.grid, self.device)
        return self._trunk

    def video(self, source: VideoSource, i: int,
              tap: Callable[[Iterator[np.ndarray]], Iterator[np.ndarray]] | None = None) -> VideoFeatures:
        """The streams of video i of `source`, decoded at the working size (`WORKING_SIDE`); `tap` sees every frame
        on the way (`apps.display.DisplayFrames.tap`)."""
        frames = source.iter_frames(i, max_side=WORKING_SIDE)
        return self.extract(tap(frames) if tap is not None else frames, source.entries[i].fps)

    def extract(self, frames: Iterable[np.ndarray], fps: float) -> VideoFeatures:
        """The streams of one video from its uint8 RGB frames (H, W, 3), in order (larger frames are scaled to
        `WORKING_SIDE` first; `video` decodes them at that size, which is much faster)."""
        names = set(self.spec.names)
        want_people = bool(names & {"pose", "crop"})
        if want_people:
            names.add("imagenet")  # the fallback where one of two videos has no person
        k_people = self.max_people if want_people else 0
        estimator = pose_mod.PeopleEstimator(k_people) if want_people else None
        recorders = [pose_mod.TrackRecorder() for _ in range(k_people)]
        crops = [_Batches(self.trunk) for _ in range(k_people)] if "crop" in names else []
        whole = _Batches(self.trunk)
        motion = _Motion()
        boxes: list[np.ndarray | None] = [None] * k_people
        t = 0
        try:
            for frame in frames:
                frame = scale_frame(frame, WORKING_SIDE)
                t += 1
                motion.add(frame)
                if (t - 1) % self.stride:
                    continue
                if estimator is not None:
                    for k, found in enumerate(estimator.landmarks(frame)):
                        recorders[k].add(found)
                        if found is not None:
                            boxes[k] = pose_mod.person_box(found[1])
                for batch, box in zip(crops, boxes):  # before a person's first detection: the whole frame
                    batch.add(None if box is None else crop_square(frame, box))
                whole.add(frame)
        finally:
            if estimator is not None:
                estimator.close()
        if t == 0:
            raise GtalignError("the video has no frames")
        sampled_fps = fps / self.stride
        whole_sampled = whole.result()   # (frames looked at, D): every `stride`-th frame
        whole_feats = upsample(whole_sampled, self.stride, t)
        # the whole frame as one pooled descriptor: in bands, a crop, a shift or a pan of the camera moves content
        # from band to band and looks like another moment (docs/results.md: 2.22 -> 1.94 frames)
        banded = _centre(whole_feats)
        out = VideoFeatures(streams={"imagenet": band_mean(banded, self.grid), BANDED: banded,
                                     "motion": motion.result(fps)}, num_frames=t)
        fractions = []
        for k, recorder in enumerate(recorders):
            track = recorder.track()
            fractions.append(track.valid_fraction)
            if track.valid_fraction < MIN_POSE_FRACTION:
                continue
            streams = {}
            if "pose" in names:
                streams["pose"] = upsample(pose_mod.pose_features(track, sampled_fps), self.stride, t)
            if crops:
                streams["crop"] = _centre(upsample(crops[k].result(whole_sampled), self.stride, t))
            out.people.append(Person(upsample(track.valid, self.stride, t), streams))
        out.people.sort(key=lambda p: -p.fraction)
        if want_people and not out.people:
            out.notes.append(f"a person was found on {100 * max(fractions):.0f}% of the frames (fewer than "
                             f"{100 * MIN_POSE_FRACTION:.0f}%): no pose or person crops, whole-frame appearance "
                             "and motion instead")
        elif len(out.people) > 1:
            out.notes.append(f"{len(out.people)} people tracked; each pair is aligned on the pairing of people that "
                             "aligns best")
        return out


def upsample(x: np.ndarray, stride: int, length: int) -> np.ndarray:
    """Rows (S, ...) taken at frames 0, stride, 2 stride, ... -> (length, ...) at every frame: linear between the
    two nearest taken frames, the last held after it. Booleans (a person found) are True where every taken frame
    the value comes from is True."""
    if stride == 1 and len(x) == length:
        return x
    pos = np.minimum(np.arange(length) / stride, len(x) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(x) - 1)
    if x.dtype == bool:
        return x[lo] & (x[hi] | (pos == lo))
    w = (pos - lo).reshape(-1, *([1] * (x.ndim - 1)))
    return ((1 - w) * x[lo] + w * x[hi]).astype(x.dtype)


def pose_available() -> bool:
    """Whether MediaPipe (the `[pose]` extra) is installed."""
    return importlib.util.find_spec("mediapipe") is not None


def stream_cost(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) float64 costs of one stream: squared Euclidean distance (mean over dimensions for pose)."""
    sq = sqeuclidean_cost(torch.from_numpy(np.asarray(a, dtype=np.float64)),
                          torch.from_numpy(np.asarray(b, dtype=np.float64))).numpy()
    return sq / np.shape(a)[1] if name == "pose" else sq


def pairings(a: VideoFeatures, b: VideoFeatures) -> list[tuple[int, int] | None]:
    """Which people of A and B may be compared: every (i, j), or [None] (whole frames) when one has nobody."""
    if not (a.person and b.person):
        return [None]
    return [(i, j) for i in range(len(a.people)) for j in range(len(b.people))]


def stream_costs(spec: FeatureSpec, a: VideoFeatures, b: VideoFeatures, people: tuple[int, int] | None = (0, 0),
                 fallback_motion: bool = True) -> tuple[np.ndarray, list[str]]:
    """The pair's cost matrix (N, M): each stream both videos have, divided by its median, weighted, summed and
    divided by the sum of the weights used; and the names of the streams used.

    Pose and person crops compare person ``people[0]`` of A with person ``people[1]`` of B, and only where both
    videos show a person (crops of one person against whole frames of the other would compare different things);
    whole frames otherwise, with ``motion`` added at `FALLBACK_MOTION` of the weight (unless the spec weighs it, or
    `fallback_motion` is False; `apps.align.align_features` tries both).
    """
    total, used, weight = None, [], 0.0
    both = a.person and b.person and people is not None
    streams_a, streams_b = dict(a.streams), dict(b.streams)
    if both and people is not None:
        streams_a |= a.people[people[0]].streams
        streams_b |= b.people[people[1]].streams
    weights = [("imagenet", w) if name == "crop" and not both else (name, w) for name, w in spec.weights
               if both or name != "pose"] or [("imagenet", 1.0)]
    merged: dict[str, float] = {}
    for name, w in weights:
        merged[name] = merged.get(name, 0.0) + w
    if fallback_motion and not both and set(spec.names) & {"pose", "crop"} and "motion" not in merged:
        merged["motion"] = FALLBACK_MOTION * sum(merged.values())
    for name, w in merged.items():
        if name not in streams_a or name not in streams_b:
            continue
        c = stream_cost(name, streams_a[name], streams_b[name])
        c = c / max(float(np.median(c)), 1e-12)
        total = w * c if total is None else total + w * c
        used.append(name)
        weight += w
    if total is None:
        raise GtalignError(f"features {spec}: no stream is available for both videos; try --features imagenet")
    return total / weight, used
