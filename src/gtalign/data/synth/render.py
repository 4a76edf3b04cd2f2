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


def camera_path(app: Appearance, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the horizontal camera offset (image fraction) and the zoom factor: (n,), (n,).

    The camera pans by `app.pan` and zooms by `app.zoom` evenly from the first frame to the last, centred on the
    video's middle frame (no motion for the easy data).
    """
    progress = np.linspace(-0.5, 0.5, num_frames) if num_frames > 1 else np.zeros(1)
    return app.pan * progress, app.zoom ** progress


def figure_keypoints(action: Action, canonical_time: np.ndarray, style: Style, app: Appearance,
                     image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (n, J, 2) (x right, y down) and depths (n, J) of the joints in every frame."""
    poses = pose_at(action, canonical_time, styled_poses(action, style))
    rotation = camera_rotation(app.yaw, app.elevation)
    shift, zoom = camera_path(app, len(poses))
    projected = [project(forward_kinematics(p), rotation, app.height * image_size / REACH * z,
                         ((app.center_x - dx) * image_size, app.ground_y * image_size))
                 for p, dx, z in zip(poses, shift, zoom)]
    return np.stack([xy for xy, _ in projected]), np.stack([z for _, z in projected])


def _shade(rgb: list[int], factor: float) -> tuple[int, ...]:
    return tuple(int(round(c * factor)) for c in rgb)


def draw_figure(frame: np.ndarray, xy: np.ndarray, depth: np.ndarray, app: Appearance, zoom: float = 1.0
                ) -> np.ndarray:
    """The figure with joints at pixels `xy` (J, 2), depths (J,), drawn over `frame` (S, S, 3) uint8.

    Parts are drawn far to near, so nearer limbs cover farther ones; `zoom` scales limb widths and the head
    with the camera. Returns a new (S, S, 3) uint8 array.
    """
    size = frame.shape[0]
    big = size * SUPERSAMPLE
    unit = app.height * big / REACH * zoom  # pixels per body unit at the supersampled size
    p = xy * SUPERSAMPLE
    parts: list[tuple[float, str, tuple[np.ndarray, ...], float, tuple[int, ...]]] = []
    for a, b, right, rel in SEGMENTS:
        ja, jb = JOINT[a], JOINT[b]
        color = _shade(app.body_color, app.right_shade) if right else tuple(app.body_color)
        parts.append(((depth[ja] + depth[jb]) / 2, "limb", (p[ja], p[jb]), max(2.0, rel * app.thickness * unit), color))
    parts.append((depth[JOINT["head"]], "head", (p[JOINT["head"]],), app.head_radius * unit, tuple(app.head_color)))
    paint = Image.new("RGB", (big, big))
    mask = Image.new("L", (big, big), 0)
    draws = (ImageDraw.Draw(paint), ImageDraw.Draw(mask))
    for _, kind, points, width, color in sorted(parts, key=lambda part: part[0]):
        fills: tuple[tuple[int, ...] | int, ...] = (color, 255)
        for draw, fill in zip(draws, fills):
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
    shift, zoom = camera_path(app, len(xy))
    rng = np.random.default_rng(noise_seed)
    for t in range(len(xy)):
        scene = back if app.pan == 0 else np.roll(back, -int(round(shift[t] * image_size)), axis=1)
        scene = _with_distractor(scene, app, t / max(len(xy) - 1, 1))
        frame = draw_figure(scene, xy[t], depth[t], app, float(zoom[t])).astype(np.float32)
        if app.flicker:
            frame *= 1.0 + app.flicker * np.sin(2 * np.pi * app.flicker_cycles * t / max(len(xy) - 1, 1))
        frame += rng.normal(0.0, app.noise, frame.shape).astype(np.float32)
        yield np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _with_distractor(scene: np.ndarray, app: Appearance, progress: float) -> np.ndarray:
    """`scene` with the distractor disc at its place along its straight path at `progress` in [0, 1]."""
    if app.distractor_radius <= 0:
        return scene
    size = scene.shape[0]
    x0, y0, x1, y1 = app.distractor_path
    cx, cy = (x0 + (x1 - x0) * progress) * size, (y0 + (y1 - y0) * progress) * size
    radius = app.distractor_radius * size
    image = Image.fromarray(scene)
    ImageDraw.Draw(image).ellipse([cx - radius, cy - radius, cx + radius, cy + radius],
                                  fill=tuple(app.distractor_color))
    return np.asarray(image)
