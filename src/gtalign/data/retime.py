"""A copy of a real video on a known time warp, changed in appearance the way another camera changes it.

Used to measure alignment on real footage (benchmarks/align_real.py) and to test a user's own clip: the copy's
truth is known exactly, so the error of an alignment can be computed.

- `random_warp`: a monotone map from the copy's frames to times in the original: a lead-in cut, piecewise speeds
  (0.5x-2x), a trailing cut, dropped and duplicated frames, another frame rate.
- `CameraChange`: a horizontal mirror, a crop/zoom/translation, a perspective warp, lighting and colour, blur and
  a smaller frame size; `write_video` at a low bit rate re-encodes the copy.
- `truth_positions`: for each frame of the original, the (fractional) frame of the copy that shows the same instant.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from gtalign.data.video import write_video
from gtalign.errors import GtalignError


@dataclass
class Warp:
    """Frame k of the copy shows the original at ``times_s[k]`` seconds (the nearest original frame)."""

    times_s: np.ndarray   # (K,) non-decreasing
    fps: float            # the copy's frame rate
    description: str

    def source_frames(self, fps_original: float, num_frames: int) -> np.ndarray:
        """(K,) int64: the original frame shown by each frame of the copy."""
        return np.clip(np.rint(self.times_s * fps_original), 0, num_frames - 1).astype(np.int64)


def random_warp(num_frames: int, fps: float, rng: np.random.Generator, fps_choices=(24.0, 25.0, 30.0, 50.0, 60.0),
                speeds=(0.5, 2.0), cut=(0.05, 0.15), drop_rate: float = 0.02, dup_rate: float = 0.02) -> Warp:
    """A random monotone warp of a `num_frames`-frame video at `fps` (module docstring)."""
    if num_frames < 8:
        raise GtalignError(f"random_warp needs a video of at least 8 frames, got {num_frames}")
    duration = num_frames / fps
    lead, trail = rng.uniform(*cut) * duration, rng.uniform(*cut) * duration
    others = [f for f in fps_choices if abs(f - fps) > 0.5 and 0.5 <= f / fps <= 2.5]
    fps_b = float(rng.choice(others)) if others else float(fps * rng.choice([0.8, 1.25, 1.5]))
    pieces = int(rng.integers(3, 5))
    # speeds: at least one slow (< 0.8) and one fast (> 1.25) piece, in a random order
    lo, hi = speeds
    v = np.r_[rng.uniform(lo, 0.8), rng.uniform(1.25, hi), rng.uniform(lo, hi, size=pieces - 2)]
    v = rng.permutation(v)
    span = duration - lead - trail
    lengths = rng.dirichlet(np.full(pieces, 3.0)) * span  # seconds of the original in each piece
    knots_orig = lead + np.r_[0.0, np.cumsum(lengths)]
    knots_copy = np.r_[0.0, np.cumsum(lengths / v)]
    t_copy = np.arange(0.0, knots_copy[-1], 1.0 / fps_b)
    times = np.interp(t_copy, knots_copy, knots_orig)
    keep = rng.random(len(times)) >= drop_rate
    keep[[0, -1]] = True
    times = times[keep]
    repeat = np.where(rng.random(len(times)) < dup_rate, 2, 1)
    times = np.repeat(times, repeat)
    desc = (f"cut {lead:.2f} s lead-in and {trail:.2f} s at the end; speeds "
            f"{', '.join(f'{s:.2f}x' for s in v)}; {int((~keep).sum())} frames dropped, "
            f"{int((repeat == 2).sum())} duplicated; {fps:g} -> {fps_b:g} fps")
    return Warp(times_s=times, fps=fps_b, description=desc)


def truth_positions(warp: Warp, fps_original: float, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """For each original frame i: the fractional frame of the copy showing time i / fps, and whether the copy
    covers that time ((N,) float64, (N,) bool). Frames of the copy that repeat an instant (duplicates) count once,
    at their first appearance."""
    shown = warp.source_frames(fps_original, num_frames) / fps_original
    first = np.r_[True, shown[1:] > shown[:-1]]
    k = np.flatnonzero(first).astype(np.float64)
    t = shown[first]
    times = np.arange(num_frames) / fps_original
    covered = (times >= t[0]) & (times <= t[-1])
    return np.interp(times, t, k), covered


@dataclass
class CameraChange:
    """Appearance changes standing for another camera (all drawn by `random_change`)."""

    mirror: bool
    crop: tuple[float, float, float]         # kept fraction of the side, centre x and y (fractions of the frame)
    perspective: tuple[float, ...]           # 8 corner offsets as fractions of the frame size
    brightness: float
    contrast: float
    saturation: float
    hue_shift: float                         # of the colour wheel, in [-0.5, 0.5]
    blur: float                              # Gaussian radius in pixels of the output
    scale: float                             # output size relative to the input

    def to_json(self) -> dict:
        return asdict(self)

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """uint8 RGB (H, W, 3) -> the changed frame, (round(H*scale), round(W*scale), 3) rounded to even sizes."""
        h, w = frame.shape[:2]
        img = Image.fromarray(frame)
        if self.mirror:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        keep, cx, cy = self.crop
        cw, ch = keep * w, keep * h
        x0 = float(np.clip(cx * w - cw / 2, 0, w - cw))
        y0 = float(np.clip(cy * h - ch / 2, 0, h - ch))
        corners = np.array([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]])
        corners += np.asarray(self.perspective).reshape(4, 2) * [w, h]
        out_w, out_h = max(2, 2 * round(w * self.scale / 2)), max(2, 2 * round(h * self.scale / 2))
        coeffs = _perspective_coeffs(np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], float), corners)
        img = img.transform((out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
        img = ImageEnhance.Brightness(img).enhance(self.brightness)
        img = ImageEnhance.Contrast(img).enhance(self.contrast)
        img = ImageEnhance.Color(img).enhance(self.saturation)
        if self.hue_shift:
            hsv = np.asarray(img.convert("HSV")).copy()
            hsv[..., 0] = (hsv[..., 0].astype(np.int16) + int(round(self.hue_shift * 255))) % 256
            img = Image.fromarray(hsv, "HSV").convert("RGB")
        if self.blur > 0:
            img = img.filter(ImageFilter.GaussianBlur(self.blur))
        return np.asarray(img)


def _perspective_coeffs(dst: np.ndarray, src: np.ndarray) -> tuple[float, ...]:
    """PIL's 8 coefficients mapping output pixel `dst` corners to input `src` corners."""
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return tuple(np.linalg.solve(np.array(rows, float), src.reshape(-1)))


def random_change(rng: np.random.Generator, strength: float = 1.0) -> CameraChange:
    """A random `CameraChange`; `strength` in [0, 1] scales every change (0: none)."""
    s = float(np.clip(strength, 0.0, 1.0))
    keep = 1.0 - s * rng.uniform(0.15, 0.4)
    return CameraChange(
        mirror=bool(rng.random() < 0.5) if s > 0 else False,
        crop=(keep, 0.5 + s * rng.uniform(-0.15, 0.15), 0.5 + s * rng.uniform(-0.1, 0.1)),
        perspective=tuple(s * rng.uniform(-0.08, 0.08, size=8)),
        brightness=float(1 + s * rng.uniform(-0.35, 0.35)), contrast=float(1 + s * rng.uniform(-0.35, 0.35)),
        saturation=float(1 + s * rng.uniform(-0.5, 0.5)), hue_shift=float(s * rng.uniform(-0.08, 0.08)),
        blur=float(s * rng.uniform(0.0, 2.0)), scale=float(1 - s * rng.uniform(0.2, 0.5)))


def retimed_frames(frames: list[np.ndarray] | np.ndarray, fps: float, warp: Warp,
                   change: CameraChange | None = None) -> np.ndarray:
    """uint8 (K, h, w, 3): the original's frames as `warp` shows them, changed by `change`."""
    idx = warp.source_frames(fps, len(frames))
    return np.stack([frames[int(k)] if change is None else change.apply(frames[int(k)]) for k in idx])


def write_retimed(frames: list[np.ndarray] | np.ndarray, fps: float, warp: Warp, change: CameraChange | None,
                  path, quality: int = 12):
    """Write the copy as an mp4 at `warp.fps`, re-encoded at mpeg4 quantizer `quality` (2 good .. 31 worst)."""
    return write_video(path, retimed_frames(frames, fps, warp, change), warp.fps, quality=quality)
