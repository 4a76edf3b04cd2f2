"""A person's pose per frame (MediaPipe BlazePose) and pose descriptors that change little with the viewpoint.

Extraction: BlazePose with ``model_complexity=1``, the one model that ships inside the ``mediapipe`` wheel (0 and 2
download theirs at first use, so they are refused). Install with ``pip install gtalign[pose]``.

Known traps, and what is done about each:

- BlazePose mixes up left and right, above all when the person faces the camera. Every descriptor of a left/right
  pair is given as the pair's mean and the absolute difference, which do not change when the labels swap.
- Its 3D world landmarks disagree between viewpoints about as much as the pose changes over a movement. The
  descriptors are angles and length ratios (no raw coordinates), and each is centred and scaled per video, so a
  constant bias of one camera's estimates drops out; only how each descriptor changes in time is compared.
- With a bystander in view it may follow the wrong person. Up to ``max_people`` people are tracked
  (`PeopleEstimator`: each further instance sees the frame with the people found so far covered), and the caller
  picks which track to use; within a track, frames whose body centre or size jumps away from the main track are
  dropped and filled in, as are frames without a detection (``PoseTrack.valid``).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter1d

from gtalign.errors import GtalignError

#: The BlazePose model that ships inside the mediapipe wheel; the others are downloaded at first use.
MODEL_COMPLEXITY = 1
POSE_SIDE = 640  # frames are scaled to this longest side for the pose network

# BlazePose's 33 landmarks: the ones used here, as (left, right) pairs.
SHOULDER, ELBOW, WRIST, HIP, KNEE, ANKLE, FOOT = (11, 12), (13, 14), (15, 16), (23, 24), (25, 26), (27, 28), (31, 32)
NOSE = 0
#: Joint angles (a, vertex, b) for the left side; the right side uses the partner landmarks.
ANGLES = ((HIP, SHOULDER, ELBOW), (SHOULDER, ELBOW, WRIST), (SHOULDER, HIP, KNEE), (HIP, KNEE, ANKLE),
          (KNEE, ANKLE, FOOT))
#: Limb ends whose height relative to the hips (in torso lengths) is a descriptor, per side.
HEIGHTS = (SHOULDER, ELBOW, WRIST, KNEE, ANKLE)
#: Distances (in torso lengths) between the two sides' landmarks.
SPANS = (WRIST, ELBOW, KNEE, ANKLE)


def check_model_complexity(value: int) -> int:
    """Only BlazePose's full model (1) is inside the wheel; 0 (lite) and 2 (heavy) would download theirs."""
    if value != MODEL_COMPLEXITY:
        raise GtalignError(f"pose model_complexity must be {MODEL_COMPLEXITY}: it is the only BlazePose model inside "
                           f"the mediapipe package; {value!r} would download a model at run time, which gtalign "
                           "never does")
    return value


def _mediapipe_pose():
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ log lines on every start
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
    try:
        from mediapipe.python.solutions import pose as mp_pose
    except ImportError as e:
        raise GtalignError("pose features need MediaPipe: pip install 'gtalign[pose]' (mediapipe==0.10.14)") from e
    return mp_pose


@dataclass
class PoseTrack:
    """One person's landmarks over T frames (33 BlazePose landmarks)."""

    world: np.ndarray     # (T, 33, 3) metric, hip-centred 3D landmarks (x right, y down, z away from the camera)
    image: np.ndarray     # (T, 33, 2) image landmarks in pixels of the original frame (x, y)
    detected: np.ndarray  # (T,) bool: BlazePose found a person
    valid: np.ndarray     # (T,) bool: detected and on the main track (not a jump to a bystander)

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean()) if len(self.valid) else 0.0

    def boxes(self, margin: float = 0.25) -> np.ndarray:
        """(T, 4) float square boxes (x0, y0, x1, y1) around the person in image pixels, filled in over gaps."""
        return person_box(fill_gaps(self.image, self.valid), margin)


def person_box(image_points: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """Square boxes (..., 4) as (x0, y0, x1, y1) around image landmarks (..., 33, 2), their longer side widened by
    `margin` on each end."""
    lo, hi = image_points.min(axis=-2), image_points.max(axis=-2)
    centre, side = (lo + hi) / 2, (hi - lo).max(axis=-1, keepdims=True) * (1 + 2 * margin)
    return np.concatenate([centre - side / 2, centre + side / 2], axis=-1)


def _resize(frame: np.ndarray, side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(frame)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR))


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_stderr_silenced():
    """Process-level stderr (file descriptor 2) sent to /dev/null: MediaPipe's C++ graph prints TensorFlow Lite and
    absl lines there on its first frame, which no Python setting turns off. One thread at a time: two overlapping
    redirections could restore /dev/null for good (videos are extracted in parallel threads)."""
    with _STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class PoseEstimator:
    """BlazePose over the frames of one video, in order (it tracks the person from frame to frame)."""

    def __init__(self, model_complexity: int = MODEL_COMPLEXITY):
        mp_pose = _mediapipe_pose()
        check_model_complexity(model_complexity)
        with _native_stderr_silenced():
            self._pose = mp_pose.Pose(static_image_mode=False, model_complexity=model_complexity,
                                      smooth_landmarks=True, enable_segmentation=False)
        self._started = False

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> "PoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def landmarks(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """World (33, 3) and image (33, 2, in pixels of `frame`) landmarks of uint8 RGB `frame` (H, W, 3), or None."""
        h, w = frame.shape[:2]
        if self._started:
            result = self._pose.process(_resize(frame, POSE_SIDE))
        else:
            with _native_stderr_silenced():
                result = self._pose.process(_resize(frame, POSE_SIDE))
            self._started = True
        if result.pose_world_landmarks is None or result.pose_landmarks is None:
            return None
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], dtype=np.float64)
        image = np.array([(p.x * w, p.y * h) for p in result.pose_landmarks.landmark], dtype=np.float64)
        return world, image


def cover(frame: np.ndarray, image_points: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """A copy of `frame` (H, W, 3) with the rectangle around `image_points` (33, 2 pixels), widened by `margin` of
    its size on every side, painted mid-grey: the person there is hidden from the next BlazePose instance."""
    h, w = frame.shape[:2]
    lo, hi = image_points.min(axis=0), image_points.max(axis=0)
    pad = margin * (hi - lo)
    x0, y0 = np.floor(np.maximum(lo - pad, 0)).astype(int)
    x1, y1 = np.minimum(np.floor(hi + pad).astype(int) + 1, (w, h))  # the last covered pixel included
    out = frame.copy()
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = 128
    return out


#: Until an instance after the first finds a person, it looks for one on every this many frames only.
PROBE_EVERY = 4


def _centre_size(image_points: np.ndarray) -> tuple[np.ndarray, float]:
    """The centre (2,) and size (the longer side of the bounding box, pixels) of a person's image landmarks (33, 2)."""
    return image_points.mean(axis=0), max(float(np.ptp(image_points, axis=0).max()), 1e-6)


def step_from(last: tuple[np.ndarray, float], image_points: np.ndarray, jump: float = 0.6,
              scale_jump: float = 0.35) -> float:
    """How far a detection (image landmarks (33, 2)) is from where a person was last seen (centre, size), in units
    of what `main_track` still takes for the same person: <= 1 when the centre moved at most `jump` body sizes and
    the size changed at most `scale_jump` (relative)."""
    (c0, s0), (c1, s1) = last, _centre_size(image_points)
    bigger = max(s0, s1)
    return max(float(np.linalg.norm(c1 - c0)) / (jump * bigger), abs(s1 - s0) / (scale_jump * bigger))


def match_people(found: list, last: list) -> list[int]:
    """Which instance's detection each person slot takes: a permutation `order` with slot j taking `found[order[j]]`.

    `found`: one detection per BlazePose instance (landmarks as `PoseEstimator.landmarks` gives them, or None);
    `last`: each slot's (centre, size) where its person was last seen, or None before they were. The order chosen
    costs least, where a detection costs `step_from` its slot's last sighting, 1 (the most that still continues a
    track) on a slot not seen yet, and a missing detection nothing; ties keep every instance on its own slot. So a
    detection changes slot only where it continues another slot's person clearly better: where an instance that
    lost its person jumped to another one, or a later instance picked up the person an earlier one lost.
    """
    def cost(detection, seen) -> float:
        if detection is None:
            return 0.0
        return 1.0 if seen is None else step_from(seen, detection[1])

    orders = itertools.permutations(range(len(found)))  # the identity first: it wins ties
    return list(min(orders, key=lambda order: sum(cost(found[i], last[j]) for j, i in enumerate(order)) - 1e-9 *
                    (order == tuple(range(len(found))))))


class PeopleEstimator:
    """BlazePose for up to `max_people` people in the frames of one video, in order.

    BlazePose finds one person per image. Instance k is shown the frame with the people that instances 0..k-1 found
    in it covered (`cover`), so it finds another person if there is one; each instance tracks its person from frame
    to frame. An instance that loses its person may find another one (a bystander), and the next instance the one
    it lost, so detections are put into person slots by where each person was last seen (`match_people`). On the
    real-footage benchmark's scenes with a bystander the instances traded people for a few frames while the two
    crossed; keeping them apart changed its errors by 0.1 point or less (docs/results.md). Which
    person is of interest is left to the caller (`gtalign.apps.align` keeps the pairing of people that aligns best).

    The first instance sees every frame. A later one, until it first finds a person, looks only every `probe_every`
    frames (None on the frames between), and from then on sees every frame: with nobody to track, BlazePose runs its
    detector on every frame it is given, which costs about as much as tracking the first person (19-22 against 22-23
    ms a frame on 2 cores), for nothing in a video of one person. A person who is there from the start is found on
    the first frame, as before; one who comes later is found up to `probe_every - 1` frames late. Probing sparsely
    also after losing a person was tried and dropped: it cut a bystander's track into pieces, and on the real-footage
    benchmark the default went from 1.94 to 2.03 frames of mean error (two pairs with a bystander from 1.07 and 1.79
    to 2.74 and 4.27).
    """

    def __init__(self, max_people: int = 2, model_complexity: int = MODEL_COMPLEXITY,
                 probe_every: int = PROBE_EVERY):
        if int(max_people) < 1:
            raise GtalignError(f"max_people must be >= 1, got {max_people!r}")
        if int(probe_every) < 1:
            raise GtalignError(f"probe_every must be >= 1 frame, got {probe_every!r}")
        check_model_complexity(model_complexity)
        self._instances = [PoseEstimator(model_complexity) for _ in range(int(max_people))]
        self._probe_every = int(probe_every)
        self._idle = [0] * len(self._instances)  # frames since each instance last ran without finding anyone
        self._found = [False] * len(self._instances)  # whether each instance has found anyone yet
        self._last: list[tuple[np.ndarray, float] | None] = [None] * len(self._instances)  # each slot's last sighting

    def close(self) -> None:
        for instance in self._instances:
            instance.close()

    def __enter__(self) -> "PeopleEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def landmarks(self, frame: np.ndarray) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Per person slot (`match_people`): world (33, 3) and image (33, 2) landmarks of its person in `frame`, or
        None."""
        found: list[tuple[np.ndarray, np.ndarray] | None] = []
        shown = frame
        for k, instance in enumerate(self._instances):
            if k > 0 and found[-1] is not None:
                shown = cover(shown, found[-1][1])
            if 0 < self._idle[k] < self._probe_every:  # nobody found yet: not yet time to look again
                self._idle[k] += 1
                found.append(None)
                continue
            found.append(instance.landmarks(shown))
            self._found[k] |= found[-1] is not None
            self._idle[k] = 1 if k > 0 and not self._found[k] else 0
        slots = [found[i] for i in match_people(found, self._last)]
        for j, detection in enumerate(slots):
            if detection is not None:
                self._last[j] = _centre_size(detection[1])
        return slots


class TrackRecorder:
    """Collects one BlazePose instance's landmarks frame by frame and turns them into a `PoseTrack`."""

    def __init__(self) -> None:
        self.world: list[np.ndarray] = []
        self.image: list[np.ndarray] = []
        self.detected: list[bool] = []

    def add(self, found: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.detected.append(found is not None)
        self.world.append(found[0] if found else np.zeros((33, 3)))
        self.image.append(found[1] if found else np.zeros((33, 2)))

    def track(self) -> PoseTrack:
        if not self.detected:
            raise GtalignError("pose: the video has no frames")
        det, img = np.array(self.detected), np.stack(self.image)
        return PoseTrack(world=np.stack(self.world), image=img, detected=det, valid=main_track(img, det))


def track_people(frames: Iterable[np.ndarray], max_people: int = 1) -> list[PoseTrack]:
    """BlazePose tracks (one per `PeopleEstimator` instance) over every frame of one video (uint8 RGB (H, W, 3))."""
    recorders = [TrackRecorder() for _ in range(max_people)]
    with PeopleEstimator(max_people) as estimator:
        for frame in frames:
            for recorder, found in zip(recorders, estimator.landmarks(frame)):
                recorder.add(found)
    return [r.track() for r in recorders]


def main_track(image: np.ndarray, detected: np.ndarray, jump: float = 0.6, scale_jump: float = 0.35) -> np.ndarray:
    """(T,) bool: detected frames that belong to the main person.

    The detections are cut into runs wherever the body centre moves more than `jump` body sizes or the body size
    changes by more than `scale_jump` (relative) from one detected frame to the next (BlazePose jumping to another
    person). The longest run is the main person; another run stays only if it is where the main person is, i.e. its
    first frame continues the main track as it was last seen before it within those limits.
    """
    t = len(detected)
    idx = np.flatnonzero(detected)
    valid = np.zeros(t, dtype=bool)
    if idx.size == 0:
        return valid
    def continues(a: int, b: int) -> bool:
        return step_from(_centre_size(image[idx[a]]), image[idx[b]], jump, scale_jump) <= 1.0

    cuts = [0] + [k for k in range(1, idx.size) if not continues(k - 1, k)] + [idx.size]
    runs = [(cuts[r], cuts[r + 1]) for r in range(len(cuts) - 1)]
    main = max(runs, key=lambda r: r[1] - r[0])
    keep = {main}
    for r in sorted(runs, key=lambda r: abs(r[0] - main[0])):  # grow outwards from the main run
        if r in keep:
            continue
        neighbours = [k for k in keep if k[1] <= r[0]] or [k for k in keep if k[0] >= r[1]]
        if not neighbours:
            continue
        near = max(neighbours, key=lambda k: k[1]) if neighbours[0][1] <= r[0] else min(neighbours,
                                                                                        key=lambda k: k[0])
        a, b = (near[1] - 1, r[0]) if near[1] <= r[0] else (r[1] - 1, near[0])
        if continues(a, b):
            keep.add(r)
    for start, stop in keep:
        valid[idx[start:stop]] = True
    return valid


def fill_gaps(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`values` (T, ...) with the frames where `valid` is False filled by linear interpolation in time (the nearest
    valid frame before the first and after the last). All-invalid input is returned as zeros."""
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return np.zeros_like(values)
    flat = values.reshape(len(values), -1)
    t = np.arange(len(values))
    filled = np.stack([np.interp(t, idx, flat[idx, k]) for k in range(flat.shape[1])], axis=1)
    out[:] = filled.reshape(values.shape)
    return out


def _angle(a: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle at `v` between the segments to `a` and `b`, (T,) radians."""
    u, w = a - v, b - v
    cos = (u * w).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1), 1e-9)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _pair(left: np.ndarray, right: np.ndarray) -> list[np.ndarray]:
    """A left/right pair as (mean, |difference|): unchanged when BlazePose swaps the sides."""
    return [(left + right) / 2, np.abs(left - right)]


def _side(points: np.ndarray, pair: tuple[int, int], side: int) -> np.ndarray:
    return points[:, pair[side]]


def _torso(points: np.ndarray) -> np.ndarray:
    """(T,) mean shoulder-to-hip length: the unit of lengths, so a person's size and distance drop out."""
    lengths = [np.linalg.norm(points[:, SHOULDER[s]] - points[:, HIP[s]], axis=-1) for s in (0, 1)]
    return np.maximum((lengths[0] + lengths[1]) / 2, 1e-6)


def pose_descriptors(track: PoseTrack) -> np.ndarray:
    """(T, D) float64 descriptors per frame (gaps filled), before per-video normalisation.

    Joint angles from the 3D world landmarks (shoulder, elbow, hip, knee, ankle), heights of limb ends above the hips
    and the trunk's lean from both the 3D and the image landmarks, and distances between the two sides, all in torso
    lengths; every left/right pair as mean and |difference|.
    """
    world = fill_gaps(track.world, track.valid)
    image = fill_gaps(track.image, track.valid)
    feats: list[np.ndarray] = []
    for a, v, b in ANGLES:
        feats += _pair(*(_angle(_side(world, a, s), _side(world, v, s), _side(world, b, s)) for s in (0, 1)))
    for points in (world, image):
        unit = _torso(points)
        hips = (points[:, HIP[0]] + points[:, HIP[1]]) / 2
        shoulders = (points[:, SHOULDER[0]] + points[:, SHOULDER[1]]) / 2
        for joint in HEIGHTS:  # y points down in both frames: height above the hips is -(y - y_hips)
            feats += _pair(*((hips[:, 1] - _side(points, joint, s)[:, 1]) / unit for s in (0, 1)))
        feats.append((hips[:, 1] - points[:, NOSE, 1]) / unit)
        trunk = shoulders - hips
        feats.append(np.arctan2(np.linalg.norm(trunk[:, [0] + ([2] if points.shape[2] == 3 else [])], axis=1),
                                -trunk[:, 1]))
    for joint in SPANS:
        feats.append(np.linalg.norm(world[:, joint[0]] - world[:, joint[1]], axis=-1) / _torso(world))
    return np.stack(feats, axis=1)


def smooth_in_time(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing of (T, D) along time (edges reflected)."""
    if sigma_frames <= 0 or len(x) < 2:
        return x

    return gaussian_filter1d(x, sigma_frames, axis=0, mode="nearest")


def normalise_per_video(x: np.ndarray, floor: float = 0.05) -> np.ndarray:
    """Centre each column over the video and divide by its standard deviation plus `floor` (in the column's units
    times its overall spread), so a descriptor that hardly changes is not blown up into noise."""
    centred = x - x.mean(axis=0, keepdims=True)
    std = centred.std(axis=0, keepdims=True)
    return centred / (std + floor * max(float(std.mean()), 1e-9))


def pose_features(track: PoseTrack, fps: float, smooth_s: float = 0.05, velocity_weight: float = 1.0) -> np.ndarray:
    """(T, 2D) float32 per-frame pose features: normalised descriptors and their normalised velocities.

    Descriptors are smoothed over `smooth_s` seconds, centred and scaled per video; velocities (per second) are
    scaled the same way and weighted by `velocity_weight`. Rows have unit mean square (so costs of different videos
    are comparable).
    """
    desc = smooth_in_time(pose_descriptors(track), smooth_s * fps)
    pos = normalise_per_video(desc)
    vel = normalise_per_video(np.gradient(desc, axis=0) * fps if len(desc) > 1 else np.zeros_like(desc))
    feats = np.concatenate([pos, velocity_weight * vel], axis=1)
    return (feats / np.sqrt(max(float((feats ** 2).mean()), 1e-12))).astype(np.float32)

