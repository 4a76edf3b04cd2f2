"""Video files: probe, decode and write them with PyAV.

Decoding is sequential from the start (or from a keyframe before `start_s` for time segments), which is exact
for variable-frame-rate videos: frame i is the i-th decoded frame, whatever its timestamp.

Frames come out the way a player shows them: a phone filming in portrait stores its frames sideways and tags the
file with a rotation (the display matrix), and decoded frames are turned by it (`quarter_turns`). Without the
turn a person stands sideways in every frame, where the pose estimator and the appearance features see them badly,
and the outputs show the video on its side.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, cast

import av
import numpy as np
from PIL import Image

from gtalign.data.indices import increasing_indices
from gtalign.errors import GtalignError, describe
from gtalign.io import atomic_path

#: What a folder's video files end with (any case). Beside the usual ones, what cameras write: AVCHD camcorders
#: (.mts, .m2ts), broadcast and cinema cameras (.mxf), DV tape (.dv), old phones (.3gp). A file named on the command
#: line is read whatever its name ends with.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v", ".mpg", ".mpeg", ".mts", ".m2ts", ".mxf", ".dv",
                  ".3gp", ".wmv", ".flv", ".ogv")


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoInfo:
    """What `probe_video` learns: the exact decoded frame count, the mean frame rate and the frame size, and how far
    the frames' timestamps stray from a constant rate."""

    num_frames: int
    fps: float
    height: int
    width: int
    drift_s: float = 0.0  # the largest |timestamp - index / fps| of a frame, from the first frame's (0: no timestamps)

    @property
    def variable_rate(self) -> bool:
        """Whether some frame is shown more than 1.5 frame periods away from where a constant `fps` puts it (phones
        lower their frame rate in low light; screen recordings skip frames). A frame's worth is left to rounding
        and to files that skip one timestamp."""
        return self.drift_s * self.fps > 1.5


def _open(path: Path):
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise GtalignError(f"cannot open video {path}: {e}") from e
    if not container.streams.video:
        container.close()
        raise GtalignError(f"video {path} has no video stream")
    return container


def _stream_fps(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 30.0


def _decode(path: Path, start_s: float | None = None) -> Iterator:
    """Yield the decoded `av.VideoFrame`s of `path` in order (from a keyframe before `start_s` when given)."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start_s is not None and start_s > 0 and stream.time_base:
            container.seek(int(start_s / stream.time_base), stream=stream, backward=True, any_frame=False)
        try:
            yield from container.decode(stream)
        except av.error.FFmpegError as e:
            raise GtalignError(f"cannot decode video {path}: {e}") from e
    finally:
        container.close()


def quarter_turns(frame: av.VideoFrame) -> int:
    """How many quarter turns counter-clockwise (0-3) show `frame` upright, from the rotation its file is tagged
    with (the display matrix; 0 without one). Rotations between quarter turns are rounded to the nearest; mirroring
    in the matrix is not applied (cameras do not write it)."""
    return int(round(float(frame.rotation) / 90.0)) % 4


def _upright(image: np.ndarray, turns: int) -> np.ndarray:
    """`image` (H, W, 3) turned `turns` quarter turns counter-clockwise, contiguous."""
    return image if turns == 0 else np.ascontiguousarray(np.rot90(image, turns))


def _rgb(frame: av.VideoFrame, max_side: int | None = None) -> np.ndarray:
    """A decoded frame as uint8 RGB (H, W, 3), upright (`quarter_turns`), scaled down as it is converted so that its
    longer side is at most `max_side` (`scaled_size`)."""
    size = scaled_size(frame.height, frame.width, max_side)
    if size is None:
        image = frame.to_ndarray(format="rgb24")
    else:
        image = frame.to_ndarray(format="rgb24", height=size[0], width=size[1], interpolation="BILINEAR")
    return _upright(image, quarter_turns(frame))


def probe_video(path: str | Path) -> VideoInfo:
    """Count the frames of a video by decoding it (metadata counts are often missing or wrong); the size is that of
    the upright frames (`quarter_turns`)."""
    path = Path(path)
    count, height, width = 0, 0, 0
    times: list[float | None] = []
    for frame in _decode(path):
        count += 1
        height, width = frame.height, frame.width
        if quarter_turns(frame) % 2:
            height, width = width, height
        times.append(frame.time)
    container = _open(path)
    try:
        fps = _stream_fps(container.streams.video[0])
    finally:
        container.close()
    return VideoInfo(num_frames=count, fps=fps, height=height, width=width, drift_s=_drift(times, fps))


def _drift(times: list[float | None], fps: float) -> float:
    """The largest |t_i - t_0 - i / fps| over the frames' timestamps `times` (seconds), sorted (some files give
    frames in display order with their timestamps in another); 0 when any is missing."""
    if len(times) < 2 or any(t is None for t in times):
        return 0.0
    t = np.sort(np.asarray(times, dtype=np.float64))
    return float(np.abs(t - t[0] - np.arange(len(t)) / fps).max())


def header_frame_count(path: str | Path) -> int:
    """The frame count a video file's header promises (its stream's count, else duration x frame rate); 0 when it
    says nothing. Opening only: nothing is decoded."""
    container = _open(Path(path))
    try:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        if stream.duration and stream.time_base:
            return int(round(float(stream.duration * stream.time_base) * _stream_fps(stream)))
        if container.duration:
            return int(round(container.duration / 1e6 * _stream_fps(stream)))
        return 0
    finally:
        container.close()


def _checked_indices(path: Path, indices: np.ndarray | None) -> np.ndarray | None:
    if indices is None:
        return None
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and idx.min() < 0:
        raise GtalignError(f"frame indices must be >= 0 for {path}, got {int(idx.min())}")
    return idx


def scaled_size(height: int, width: int, max_side: int | None) -> tuple[int, int] | None:
    """(height, width) scaled down so that the longer side is `max_side` (each at least 2), or None where the frame
    is already small enough (or `max_side` is None): frames are never scaled up."""
    if max_side is not None and not max_side >= 2:
        raise GtalignError(f"max_side must be at least 2 pixels, got {max_side!r}")
    if max_side is None or max(height, width) <= max_side:
        return None
    scale = max_side / max(height, width)
    return max(2, round(height * scale)), max(2, round(width * scale))


def scale_frame(frame: np.ndarray, max_side: int | None) -> np.ndarray:
    """A uint8 frame (H, W, 3) scaled down (bilinear) so that max(H, W) <= max_side; unchanged when it is."""
    size = scaled_size(frame.shape[0], frame.shape[1], max_side)
    if size is None:
        return frame
    return np.asarray(Image.fromarray(frame).resize((size[1], size[0]), Image.Resampling.BILINEAR))


def iter_video(path: str | Path, indices: np.ndarray | None = None,
               max_side: int | None = None) -> Iterator[np.ndarray]:
    """The frames of a video file at strictly increasing `indices` (all frames when None), one uint8 (H, W, 3)
    at a time, decoding the file once from the start and stopping after the last index.

    Streaming a whole video in pieces this way is linear in its length (`read_video` per piece would decode from
    the start every time). GtalignError when the video ends before an index, or indices do not increase.
    `max_side`: frames scaled down as they are converted to RGB (`scaled_size`), several times faster than
    converting the whole frame and scaling it after.
    """
    path = Path(path)
    idx = increasing_indices(_checked_indices(path, indices), str(path))
    wanted = None if idx is None else idx.tolist()
    if wanted == []:
        return
    pos, count = 0, 0
    for frame in _decode(path):
        if wanted is None or count == wanted[pos]:
            yield _rgb(frame, max_side)
            pos += 1
            if wanted is not None and pos == len(wanted):
                return  # before decoding any further frame
        count += 1
    if wanted is None and count == 0:
        raise GtalignError(f"video {path} has no decodable frames")
    if wanted:
        raise GtalignError(f"frame indices {wanted[pos:pos + 5]} out of range for {path} ({count} frames decoded)")


def read_video(path: str | Path, indices: np.ndarray | None = None) -> np.ndarray:
    """Frames of a video file at `indices` (all frames when None) as uint8 (n, H, W, 3), in the order asked.

    Decodes sequentially and stops after the largest index; repeated indices are decoded once.
    """
    path = Path(path)
    idx = _checked_indices(path, indices)
    if idx is None:
        return np.stack(list(iter_video(path)))
    if idx.size == 0:
        return np.zeros((0, 0, 0, 3), np.uint8)
    distinct, inverse = np.unique(idx, return_inverse=True)
    frames = np.stack(list(iter_video(path, distinct)))
    return frames[inverse.reshape(-1)]


def read_video_segment(path: str | Path, start_s: float, end_s: float, fps: float | None = None) -> np.ndarray:
    """Frames whose timestamps lie in [start_s, end_s) as uint8 (n, H, W, 3).

    With `fps`, frames are resampled to that rate (nearest earlier frame at times start_s + k / fps);
    otherwise every decoded frame in the interval is kept.
    """
    path = Path(path)
    if not end_s > start_s:
        raise GtalignError(f"segment of {path} must have end_s > start_s, got [{start_s}, {end_s})")
    times: list[float] = []
    frames: list[np.ndarray] = []
    for frame in _decode(path, start_s):
        t = float(frame.time) if frame.time is not None else 0.0
        if t >= end_s:
            break
        if fps is not None or t >= start_s:  # resampling needs the last frame before start_s too
            times.append(t)
            frames.append(_rgb(frame))
    if fps is None:
        if not frames:
            raise GtalignError(f"no frames of {path} in [{start_s:.3f}, {end_s:.3f}) s")
        return np.stack(frames)
    return resample_by_time(np.asarray(times), frames, start_s, end_s, fps, what=str(path))


def resample_by_time(times: np.ndarray, frames: list[np.ndarray], start_s: float, end_s: float, fps: float,
                     what: str = "video") -> np.ndarray:
    """Pick, for each target time start_s + k / fps in [start_s, end_s), the last frame shown at that time.

    times: (n,) increasing frame timestamps in seconds; returns uint8 (K, H, W, 3), K = ceil((end - start) fps).
    """
    if not fps > 0:
        raise GtalignError(f"fps must be > 0, got {fps}")
    if not frames:
        raise GtalignError(f"no frames of {what} in [{start_s:.3f}, {end_s:.3f}) s")
    count = max(1, math.ceil((end_s - start_s) * fps - 1e-9))
    targets = start_s + np.arange(count) / fps
    pick = np.clip(np.searchsorted(times, targets + 1e-6, side="right") - 1, 0, len(frames) - 1)
    return np.stack([frames[j] for j in pick.tolist()])


def write_video(path: str | Path, frames: np.ndarray | Iterable[np.ndarray], fps: float = 30.0,
                codec: str = "mpeg4", quality: int = 2, display_rotation: int = 0) -> Path:
    """Encode uint8 frames (n, H, W, 3), or an iterable of uint8 (H, W, 3) frames of one size (encoded as they
    come, so they need not all be held), to a video file atomically (H and W are cropped to even sizes).

    `display_rotation` (degrees counter-clockwise, a multiple of 90) tags the file to be shown turned, with the
    frames stored as given: what a phone filming in portrait writes (frames sideways, tagged -90), which readers
    turn upright (`quarter_turns`).

    `quality` is the mpeg4 quantizer (1 best .. 31 worst); other codecs use their defaults, but for H.264's speed
    preset: "veryfast" instead of "medium" encodes 480-px frames of a real clip 2.2x faster (4.7 -> 2.1 ms a frame
    on 2 cores) in a file no larger, which `align`'s side-by-side and browser videos pay on every frame.
    """
    it = iter(frames)
    first = next(it, None)
    image = None if first is None else np.asarray(first)
    if image is None or image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        got = describe(np.asarray(frames)) if isinstance(frames, np.ndarray) else \
            "no frames" if image is None else f"a first frame {image.dtype} {image.shape}"
        raise GtalignError(f"frames must be non-empty uint8 frames (n, H, W, 3), got {got}")
    shape = image.shape
    h, w = shape[0] // 2 * 2, shape[1] // 2 * 2
    if h == 0 or w == 0:
        raise GtalignError(f"frames must be at least 2x2 pixels, got {shape[0]}x{shape[1]}")
    if display_rotation % 90:
        raise GtalignError(f"display_rotation must be a multiple of 90 degrees, got {display_rotation}")
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w") as out:
            stream = cast(av.VideoStream, out.add_stream(codec, rate=rate))
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            if display_rotation % 360:
                stream.set_display_rotation(display_rotation)
            if codec == "mpeg4":
                stream.codec_context.qmin = stream.codec_context.qmax = quality
            elif codec == "libx264":
                stream.options = {"preset": "veryfast"}
            for each in itertools.chain([image], it):
                each = np.asarray(each)
                if each.shape != shape or each.dtype != np.uint8:
                    raise GtalignError(f"every frame must be uint8 {shape} like the first, got {each.dtype} "
                                       f"{each.shape}")
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(each[:h, :w]), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    return Path(path)


def video_duration(path: str | Path) -> float:
    """The duration of a video file in seconds from its container or stream metadata (0.0 when unknown)."""
    container = _open(Path(path))
    try:
        if container.duration:
            return float(container.duration / av.time_base)
        stream = container.streams.video[0]
        return float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
    finally:
        container.close()


def resize_short_side(frames: np.ndarray, size: int | None) -> np.ndarray:
    """Resize uint8 frames (n, H, W, 3) so that min(H, W) == size, keeping the aspect ratio (None: unchanged)."""
    if size is None or min(frames.shape[1:3]) == size:
        return frames
    if size < 1:
        raise GtalignError(f"size must be a positive number of pixels, got {size}")

    h, w = frames.shape[1:3]
    scale = size / min(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    return np.stack([np.asarray(Image.fromarray(f).resize((new_w, new_h), Image.Resampling.BILINEAR)) for f in frames])
