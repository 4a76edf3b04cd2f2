"""A video's look: camera viewpoint, figure size and position, limb thickness, colours, background, noise.

All of it varies from video to video (the nuisances a representation must ignore) while the figure stays
clearly visible: its colours keep a minimum luminance contrast against the background.
"""
from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, replace

import numpy as np
from PIL import Image

TEXTURES = ("blobs", "stripes", "checker")
SCENE_MOTION = ("pan", "zoom", "flicker", "flicker_cycles", "distractor_radius", "distractor_color", "distractor_path")
MIN_CONTRAST = 0.35 # luminance difference in [0, 1] between the figure and the background's mean


@dataclass
class Appearance:
    """Per-video appearance parameters (fractions are of the image side; colours are RGB 0-255)."""

    yaw: float              # degrees the figure is turned about the vertical axis (0: facing the camera)
    elevation: float        # degrees the camera looks down on the figure
    height: float           # image fraction spanned by the figure with arms overhead
    center_x: float         # horizontal position of the figure
    ground_y: float         # vertical position of the ground under the figure
    thickness: float        # limb thickness in body units (the figure is about 1.6 units tall)
    head_radius: float      # in body units
    body_color: list[int]
    head_color: list[int]
    right_shade: float      # right-side limbs are drawn in body_color times this
    sky_color: list[int]
    floor_color: list[int]
    texture: str            # one of TEXTURES
    texture_period: float   # pattern period (image fraction)
    texture_angle: float    # degrees
    texture_strength: float
    texture_seed: int
    noise: float            # standard deviation of per-pixel Gaussian noise (0-255 scale)
    # camera and scene changes over the video (the "hard" data; zero for the easy data)
    pan: float = 0.0        # horizontal camera travel from the first to the last frame (image fraction)
    zoom: float = 1.0       # figure scale at the last frame relative to the first
    flicker: float = 0.0    # relative amplitude of a sinusoidal change of lighting
    flicker_cycles: float = 1.0   # lighting periods over the video
    distractor_radius: float = 0.0  # a disc crossing the scene behind the figure (image fraction; 0: none)
    distractor_color: list[int] = field(default_factory=lambda: [0, 0, 0])
    distractor_path: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])  # x0, y0, x1, y1

    def to_json(self) -> dict:
        """The fields as JSON; the scene-motion fields only when set, so easy data keeps its manifests."""
        fields = Appearance.__dataclass_fields__
        out = asdict(self)
        for key in SCENE_MOTION:
            f = fields[key]
            if out[key] == (f.default if f.default_factory is MISSING else f.default_factory()):
                del out[key]
        return out


def luminance(rgb) -> float:
    """Relative luminance in [0, 1] of an RGB colour (0-255), Rec. 601 weights."""
    r, g, b = (float(c) / 255.0 for c in rgb)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _color(rng: np.random.Generator) -> list[int]:
    return [int(c) for c in rng.integers(0, 256, 3)]


def _contrasting_color(rng: np.random.Generator, against: float, min_contrast: float = MIN_CONTRAST) -> list[int]:
    """A random colour whose luminance differs from `against` by at least `min_contrast`."""
    for _ in range(200):
        c = _color(rng)
        if abs(luminance(c) - against) >= min_contrast:
            return c
    return [0, 0, 0] if against > 0.5 else [255, 255, 255]


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random viewpoint, placement, body and background (floats rounded to 4 decimals)."""
    def r(x: float) -> float:
        return round(float(x), 4)

    height = r(rng.uniform(0.7, 0.9))
    sky, floor = _color(rng), _color(rng)
    background_luminance = (luminance(sky) + luminance(floor)) / 2
    return Appearance(
        yaw=r(rng.uniform(-45.0, 45.0)), elevation=r(rng.uniform(-5.0, 20.0)), height=height,
        center_x=r(rng.uniform(0.5 - (1 - height) / 2, 0.5 + (1 - height) / 2)),
        ground_y=r(rng.uniform(height + 0.04, 0.98)),
        thickness=r(rng.uniform(0.08, 0.14)), head_radius=r(rng.uniform(0.09, 0.12)),
        body_color=_contrasting_color(rng, background_luminance),
        head_color=_contrasting_color(rng, background_luminance, 0.25),
        right_shade=r(rng.uniform(0.55, 0.8)), sky_color=sky, floor_color=floor,
        texture=TEXTURES[int(rng.integers(len(TEXTURES)))], texture_period=r(rng.uniform(0.08, 0.4)),
        texture_angle=r(rng.uniform(0.0, 180.0)), texture_strength=r(rng.uniform(0.05, 0.25)),
        texture_seed=int(rng.integers(2**31)), noise=r(rng.uniform(1.0, 8.0)))


def with_scene_motion(app: Appearance, rng: np.random.Generator) -> Appearance:
    """`app` with the camera motion, lighting change and distractor of the hard data drawn from `rng`."""
    def r(x: float) -> float:
        return round(float(x), 4)

    radius = r(rng.uniform(0.06, 0.12)) if rng.random() < 0.7 else 0.0
    return replace(app, pan=r(rng.uniform(-0.25, 0.25)), zoom=r(np.exp(rng.uniform(-0.3, 0.3))),
                   flicker=r(rng.uniform(0.05, 0.25)), flicker_cycles=r(rng.uniform(0.5, 3.0)),
                   distractor_radius=radius, distractor_color=_color(rng),
                   distractor_path=[r(v) for v in rng.uniform(0.0, 1.0, 4)])


def _texture(app: Appearance, size: int) -> np.ndarray:
    """A texture (size, size, 3) with values in [-1, 1]."""
    rng = np.random.default_rng(app.texture_seed)
    if app.texture == "blobs":
        cells = max(2, int(round(1.0 / app.texture_period)))
        grid = rng.uniform(0, 255, (cells, cells, 3)).astype(np.uint8)
        smooth = Image.fromarray(grid).resize((size, size), Image.Resampling.BICUBIC)
        return np.asarray(smooth, dtype=np.float32) / 127.5 - 1.0
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    a = np.radians(app.texture_angle)
    along, across = xs * np.cos(a) + ys * np.sin(a), -xs * np.sin(a) + ys * np.cos(a)
    wave = np.sin(2 * np.pi * along / app.texture_period)
    if app.texture == "checker":
        wave = np.sign(wave * np.sin(2 * np.pi * across / app.texture_period))
    tint = rng.uniform(0.3, 1.0, 3).astype(np.float32)
    return wave[..., None] * tint


def background(app: Appearance, size: int) -> np.ndarray:
    """The video's static background (size, size, 3) uint8: sky above the ground line, floor below, textured."""
    ys = (np.arange(size, dtype=np.float32) + 0.5) / size
    below = np.clip((ys - app.ground_y) / 0.02 + 0.5, 0.0, 1.0)[:, None, None]
    base = (1 - below) * np.asarray(app.sky_color, np.float32) + below * np.asarray(app.floor_color, np.float32)
    img = base * (1.0 + app.texture_strength * _texture(app, size))
    return np.clip(img, 0, 255).astype(np.uint8)
