"""The action classes: each a fixed sequence of phases, each phase a movement through key poses.

Phase p of an action moves the figure through its key poses (two or more, interpolated in angle space with
ease-in/ease-out over the phase), ending where phase p+1 starts. A phase's return path differs from its
outgoing path where possible (arms go up at the sides and come down in front, ...), so that every phase is
visible in a single frame's pose, not only in the direction of motion.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gtalign.data.synth.skeleton import BONES
from gtalign.errors import GtalignError

Angles = tuple[float, float]


def make_pose(torso: Angles = (0.0, 180.0), arms: Angles = (8.0, 0.0), forearms: Angles = (6.0, 8.0),
              thighs: Angles = (3.0, 0.0), shins: Angles = (3.0, 0.0), **one_side: Angles) -> np.ndarray:
    """A pose (NUM_BONES, 2) in degrees: `arms`, `forearms`, `thighs`, `shins` set both sides; keyword
    arguments named after a bone (`l_thigh=(0, 90)`) then override one side."""
    both = {"upper_arm": arms, "forearm": forearms, "thigh": thighs, "shin": shins}
    angles = {"torso": torso}
    for part, value in both.items():
        angles[f"l_{part}"] = value
        angles[f"r_{part}"] = value
    unknown = set(one_side) - set(BONES)
    if unknown:
        raise GtalignError(f"make_pose: unknown bones {sorted(unknown)}; expected names from {BONES}")
    angles.update(one_side)
    return np.array([angles[name] for name in BONES], dtype=np.float64)


NEUTRAL = make_pose()


@dataclass(frozen=True)
class Action:
    """An action class: `phases` are (phase name, names of the key poses it moves through) in order."""

    name: str
    poses: dict[str, np.ndarray]
    phases: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def phase_names(self) -> list[str]:
        return [name for name, _ in self.phases]

    @property
    def num_phases(self) -> int:
        return len(self.phases)


def _action(name: str, poses: dict[str, np.ndarray], *phases: tuple[str, tuple[str, ...]]) -> Action:
    """An action whose phases are checked to use known key poses and to join up (one ends where the next starts)."""
    poses = {"neutral": NEUTRAL, **poses}
    for phase, keys in phases:
        if len(keys) < 2 or any(k not in poses for k in keys):
            raise GtalignError(f"action {name}, phase {phase}: expected two or more of {sorted(poses)}, got {keys}")
    for (_, a), (_, b) in zip(phases, phases[1:]):
        if a[-1] != b[0]:
            raise GtalignError(f"action {name}: a phase ending at pose {a[-1]} is followed by one starting at {b[0]}")
    return Action(name, poses, tuple(phases))


ACTIONS: tuple[Action, ...] = (
    _action("squat", {
        "ready": make_pose(arms=(5, 25), forearms=(5, 35), thighs=(5, 12), shins=(4, -6)),
        "bottom": make_pose(torso=(0, 152), arms=(5, 88), forearms=(5, 92), thighs=(12, 82), shins=(8, -22)),
        "deep": make_pose(torso=(0, 145), arms=(5, 100), forearms=(5, 110), thighs=(14, 95), shins=(8, -28)),
        "rising": make_pose(torso=(0, 165), arms=(8, -35), forearms=(8, -25), thighs=(6, 45), shins=(4, -18)),
    }, ("stand", ("neutral", "ready")), ("descend", ("ready", "bottom")), ("bottom", ("bottom", "deep")),
        ("ascend", ("deep", "rising", "neutral"))),
    _action("jumping_jack", {
        "star": make_pose(arms=(95, 0), forearms=(100, 0), thighs=(18, 0), shins=(20, 0)),
        "top": make_pose(arms=(165, 0), forearms=(172, 0), thighs=(20, 0), shins=(22, 0)),
        "front": make_pose(arms=(25, 150), forearms=(20, 160), thighs=(12, 0), shins=(14, 0)),
        "landing": make_pose(arms=(10, 50), forearms=(8, 60), thighs=(5, 10), shins=(4, -8)),
    }, ("open", ("neutral", "star")), ("raise", ("star", "top")), ("lower", ("top", "front")),
        ("close", ("front", "landing", "neutral"))),
    _action("arm_raise", {
        "forward": make_pose(arms=(0, 90), forearms=(0, 95)),
        "overhead": make_pose(arms=(0, 172), forearms=(0, 175)),
        "t_pose": make_pose(arms=(92, 0), forearms=(95, 0)),
        "low_side": make_pose(arms=(40, 0), forearms=(35, 0)),
    }, ("lift", ("neutral", "forward")), ("overhead", ("forward", "overhead")),
        ("open", ("overhead", "t_pose")), ("lower", ("t_pose", "low_side", "neutral"))),
    _action("toe_touch", {
        "lean": make_pose(torso=(0, 95), arms=(0, 10), forearms=(0, 5), thighs=(3, -5), shins=(3, -5)),
        "touch": make_pose(torso=(0, 60), arms=(0, -10), forearms=(0, -15), thighs=(3, -8), shins=(3, 5)),
        "reach": make_pose(torso=(0, 170), arms=(10, 170), forearms=(10, 172)),
    }, ("bend", ("neutral", "lean")), ("touch", ("lean", "touch")), ("rise", ("touch", "reach")),
        ("return", ("reach", "neutral"))),
    _action("lunge", {
        "step": make_pose(arms=(30, 0), forearms=(10, 40), r_thigh=(0, 55), r_shin=(0, -5),
                          l_thigh=(0, -25), l_shin=(0, -35)),
        "low": make_pose(arms=(30, 0), forearms=(10, 40), r_thigh=(0, 85), r_shin=(0, -5),
                         l_thigh=(0, -12), l_shin=(0, -85)),
        "push": make_pose(arms=(0, 90), forearms=(0, 95), r_thigh=(0, 50), r_shin=(0, -10),
                          l_thigh=(0, -20), l_shin=(0, -40)),
    }, ("step", ("neutral", "step")), ("lower", ("step", "low")), ("push", ("low", "push")),
        ("return", ("push", "neutral"))),
    _action("high_knees", {
        "left_up": make_pose(l_thigh=(20, 95), l_shin=(12, -5), r_upper_arm=(0, 50), r_forearm=(0, 110),
                             l_upper_arm=(0, -35), l_forearm=(0, -10)),
        "right_up": make_pose(r_thigh=(20, 95), r_shin=(12, -5), l_upper_arm=(0, 50), l_forearm=(0, 110),
                              r_upper_arm=(0, -35), r_forearm=(0, -10)),
        "clap": make_pose(arms=(0, 175), forearms=(0, 178)),
    }, ("left_knee", ("neutral", "left_up", "neutral")), ("right_knee", ("neutral", "right_up", "neutral")),
        ("clap", ("neutral", "clap", "neutral"))),
    _action("front_kick", {
        "guard": make_pose(arms=(10, 35), forearms=(5, 150)),
        "chamber": make_pose(arms=(10, 35), forearms=(5, 150), r_thigh=(18, 90), r_shin=(10, -15)),
        "kick": make_pose(torso=(0, 170), arms=(25, 10), forearms=(20, 60), r_thigh=(15, 80), r_shin=(15, 80)),
        "retract": make_pose(arms=(10, 60), forearms=(5, 120), r_thigh=(0, 60), r_shin=(0, -40)),
    }, ("guard", ("neutral", "guard")), ("chamber", ("guard", "chamber")), ("kick", ("chamber", "kick")),
        ("retract", ("kick", "retract", "neutral"))),
    _action("side_bend", {
        "up": make_pose(arms=(170, 0), forearms=(174, 0), thighs=(10, 0), shins=(10, 0)),
        "left": make_pose(torso=(28, 180), arms=(150, 0), forearms=(140, 0), thighs=(10, 0), shins=(10, 0),
                          r_upper_arm=(175, 0), r_forearm=(160, 0)),
        "right": make_pose(torso=(-28, 180), arms=(150, 0), forearms=(140, 0), thighs=(10, 0), shins=(10, 0),
                           l_upper_arm=(175, 0), l_forearm=(160, 0)),
        "front": make_pose(arms=(5, 95), forearms=(5, 100), thighs=(6, 0), shins=(6, 0)),
    }, ("raise", ("neutral", "up")), ("bend_left", ("up", "left", "up")), ("bend_right", ("up", "right", "up")),
        ("lower", ("up", "front", "neutral"))),
)
ACTION_NAMES = tuple(a.name for a in ACTIONS)


def smoothstep(s: np.ndarray) -> np.ndarray:
    """Ease-in/ease-out of progress s in [0, 1]: 3 s^2 - 2 s^3 (zero velocity at both ends)."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)


def phase_of(canonical_time: np.ndarray, num_phases: int) -> np.ndarray:
    """Phase index (n,) int64 of canonical times (n,) in [0, 1]: phase p covers [p/P, (p+1)/P)."""
    u = np.asarray(canonical_time, dtype=np.float64)
    return np.clip(np.floor(u * num_phases), 0, num_phases - 1).astype(np.int64)


def pose_at(action: Action, canonical_time: np.ndarray, poses: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Poses (n, NUM_BONES, 2) of `action` at canonical times (n,) in [0, 1].

    `poses` replaces the action's key poses (a video's own style: see `gtalign.data.synth.style`).
    """
    poses = action.poses if poses is None else poses
    u = np.asarray(canonical_time, dtype=np.float64)
    phase = phase_of(u, action.num_phases)
    progress = smoothstep(u * action.num_phases - phase)
    out = np.empty((len(u),) + NEUTRAL.shape)
    for t, (p, s) in enumerate(zip(phase, progress)):
        keys = action.phases[p][1]
        x = s * (len(keys) - 1)
        k = min(int(x), len(keys) - 2)
        w = x - k
        out[t] = (1.0 - w) * poses[keys[k]] + w * poses[keys[k + 1]]
    return out
