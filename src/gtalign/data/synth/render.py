"""Drawing the figure: thick limbs and round joints (PIL), anti-aliased by 2x supersampling, over the
video's background, with per-frame sensor noise."""
from __future__ import annotations

from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw

from gtalign.data.synth.actions import Action, pose_at
from gtalign.data.synth.appearance import Appearance, background
from gtalign.data.synth.skeleton import JOINT, REACH, SEGMENTS, camera_rotation, forward_kinematics, project
from gtalign.data.synth.style import Style, styled_poses

SUPERSAMPLE = 2


def figure_keypoints(action: Action, canonical_time: np.ndarray, style: Style, app: Appearance,
                     image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (n, J, 2) (x right, y down) and depths (n, J) of the joints in every frame."""
    poses = pose_at(action, canonical_time, styled_poses(action, style))
    rotation = camera_rotation(app.yaw, app.elevation)
    scale = app.height * image_size / REACH
    anchor = (app.center_x * image_size, app.ground_y * image_size)
    projected = [project(forward_kinematics(p), rotation, scale, anchor) for p in poses]
    return np.stack([xy for xy, _ in projected]), np.stack([z for _, z in projected])


def _shade(rgb: list[int], factor: float) -> tuple[int, ...]:
    return tuple(int(round(c * factor)) for c in rgb)


def draw_figure(frame: np.ndarray, xy: np.ndarray, depth: np.ndarray, app: Appearance) -> np.ndarray:
    """The figure with joints at pixels `xy` (J, 2), depths (J,), drawn over `frame` (S, S, 3) uint8.

    Parts are drawn far to near, so nearer limbs cover farther ones. Returns a new (S, S, 3) uint8 array.
    """
    size = frame.shape[0]
    big = size * SUPERSAMPLE
    unit = app.height * big / REACH  # pixels per body unit at the supersampled size
    p = xy * SUPERSAMPLE
    parts = []
    for a, b, right, rel in SEGMENTS:
        ja, jb = JOINT[a], JOINT[b]
        color = _shade(app.body_color, app.right_shade) if right else tuple(app.body_color)
        parts.append(((depth[ja] + depth[jb]) / 2, "limb", (p[ja], p[jb]), max(2.0, rel * app.thickness * unit), color))
    parts.append((depth[JOINT["head"]], "head", (p[JOINT["head"]],), app.head_radius * unit, tuple(app.head_color)))
    paint = Image.new("RGB", (big, big))
    mask = Image.new("L", (big, big), 0)
    draws = (ImageDraw.Draw(paint), ImageDraw.Draw(mask))
    for _, kind, points, width, color in sorted(parts, key=lambda part: part[0]):
        for draw, fill in zip(draws, (color, 255)):
            if kind == "head":
                (c,) = points
                draw.ellipse([c[0] - width, c[1] - width, c[0] + width, c[1] + width], fill=fill)
                continue
            draw.line([tuple(points[0]), tuple(points[1])], fill=fill, width=int(round(width)))
            for c in points:  # round the ends
                draw.ellipse([c[0] - width / 2, c[1] - width / 2, c[0] + width / 2, c[1] + width / 2], fill=fill)
    paint, mask = paint.reduce(SUPERSAMPLE), mask.reduce(SUPERSAMPLE)
    return np.asarray(Image.composite(paint, Image.fromarray(frame), mask))


def render_frames(action: Action, canonical_time: np.ndarray, style: Style, app: Appearance, image_size: int,
                  noise_seed: int) -> Iterator[np.ndarray]:
    """The video's frames, one (S, S, 3) uint8 array at a time, for canonical times (n,)."""
    xy, depth = figure_keypoints(action, canonical_time, style, app, image_size)
    back = background(app, image_size)
    rng = np.random.default_rng(noise_seed)
    for t in range(len(xy)):
        frame = draw_figure(back, xy[t], depth[t], app).astype(np.float32)
        frame += rng.normal(0.0, app.noise, frame.shape).astype(np.float32)
        yield np.clip(np.rint(frame), 0, 255).astype(np.uint8)
