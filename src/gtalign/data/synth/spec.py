"""A video's complete recipe (`VideoSpec`): drawn from a seed, stored in the manifest's `meta`, and enough to
render the video again exactly (`render_frames(spec)` gives the same pixels as the generator wrote)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator

import numpy as np

from gtalign.data.synth.actions import ACTIONS, Action, phase_of, pose_at
from gtalign.data.synth.appearance import Appearance, sample_appearance, with_scene_motion
from gtalign.data.synth.render import render_frames
from gtalign.data.synth.skeleton import forward_kinematics
from gtalign.data.synth.style import Style, sample_style, styled_poses
from gtalign.data.synth.timeline import DIFFICULTIES, Warp, canonical_times, sample_warp
from gtalign.errors import GtalignError
from gtalign.registry import check_choice

GENERATOR = "gtalign-synth"
GENERATOR_VERSION = 1


@dataclass
class VideoSpec:
    """Everything about one synthetic video. `canonical_time` (num_frames,) is the ground-truth warp."""

    seed: list[int]            # [dataset seed, class index, video index]
    action: str
    image_size: int
    canonical_time: np.ndarray
    warp: Warp
    style: Style
    appearance: Appearance
    noise_seed: int

    @property
    def num_frames(self) -> int:
        return len(self.canonical_time)

    @property
    def action_def(self) -> Action:
        return action_by_name(self.action)

    @property
    def labels(self) -> np.ndarray:
        """Per-frame phase labels (num_frames,) int64."""
        return phase_of(self.canonical_time, self.action_def.num_phases)

    def to_meta(self) -> dict[str, Any]:
        """The JSON-ready `meta` of the video's manifest entry."""
        return {"generator": GENERATOR, "version": GENERATOR_VERSION, "seed": list(self.seed),
                "action": self.action, "image_size": self.image_size,
                "canonical_time": [float(u) for u in self.canonical_time], "warp": self.warp.to_json(),
                "style": self.style.to_json(), "appearance": self.appearance.to_json(), "noise_seed": self.noise_seed}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> "VideoSpec":
        """The spec stored by `to_meta` (e.g. `source.entries[i].meta` of a synthetic dataset)."""
        if meta.get("generator") != GENERATOR:
            raise GtalignError(f"meta: expected a video made by {GENERATOR} (meta['generator']), "
                               f"got {meta.get('generator')!r}")
        warp = dict(meta["warp"])
        warp["pauses"] = [tuple(p) for p in warp["pauses"]]
        warp["skips"] = [tuple(p) for p in warp.get("skips", [])]
        return cls(seed=list(meta["seed"]), action=meta["action"], image_size=int(meta["image_size"]),
                   canonical_time=np.asarray(meta["canonical_time"], dtype=np.float64), warp=Warp(**warp),
                   style=Style(**meta["style"]), appearance=Appearance(**meta["appearance"]),
                   noise_seed=int(meta["noise_seed"]))

    def retimed(self, warp: Warp, num_frames: int) -> "VideoSpec":
        """The same performer, appearance and noise on another timeline: a copy of this video with a known time
        warp (`num_frames` frames sampling `warp`)."""
        return replace(self, canonical_time=canonical_times(warp, num_frames), warp=warp)

    def body_joints(self) -> np.ndarray:
        """The performer's 3D joints in every frame, in the figure's own frame (no camera, no image): (num_frames,
        J, 3) float64, as rendered (the video's style included). What a perfect 3D pose estimator would read off
        the frames, whatever the viewpoint, light or background."""
        poses = pose_at(self.action_def, self.canonical_time, styled_poses(self.action_def, self.style))
        return np.stack([forward_kinematics(pose) for pose in poses])

    def frames(self) -> Iterator[np.ndarray]:
        """The video's frames, one (S, S, 3) uint8 array at a time."""
        return render_frames(self.action_def, self.canonical_time, self.style, self.appearance, self.image_size,
                             self.noise_seed)


def action_by_name(name: str) -> Action:
    for action in ACTIONS:
        if action.name == name:
            return action
    raise GtalignError(f"unknown synthetic action {name!r}; expected one of {[a.name for a in ACTIONS]}")


def sample_spec(seed: int, class_index: int, video_index: int, min_frames: int, max_frames: int,
                image_size: int, difficulty: str = "easy") -> VideoSpec:
    """The spec of video `video_index` of class `class_index`: a function of these numbers only, so a dataset
    is the same whatever the number of workers or the order of generation.

    `difficulty="hard"`: the timeline of `timeline._hard_warp` and a moving camera, changing light and a distractor
    (`appearance.with_scene_motion`, drawn from a generator of their own); the easy data is unchanged by them.
    """
    check_choice("difficulty", difficulty, DIFFICULTIES)
    words = [seed, class_index, video_index]
    rng = np.random.default_rng(words)
    action = ACTIONS[class_index]
    num_frames = int(rng.integers(min_frames, max_frames + 1))
    warp = sample_warp(action.num_phases, rng, difficulty)
    style = sample_style(action, rng)
    appearance = sample_appearance(rng)
    spec = VideoSpec(seed=words, action=action.name, image_size=image_size,
                     canonical_time=canonical_times(warp, num_frames), warp=warp, style=style,
                     appearance=appearance, noise_seed=int(rng.integers(2**63)))
    if difficulty == "hard":
        spec = replace(spec, appearance=with_scene_motion(appearance, np.random.default_rng(words + [1])))
    return spec
