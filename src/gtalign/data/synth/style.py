"""A video's way of performing its action: how far it goes (amplitude) and its own small pose deviations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gtalign.data.synth.actions import NEUTRAL, Action
from gtalign.data.synth.skeleton import NUM_BONES


@dataclass
class Style:
    """`amplitude` scales every key pose's departure from the neutral pose; `jitter[key]` (NUM_BONES, 2)
    degrees is added to key pose `key`. The neutral pose itself is jittered too (posture)."""

    amplitude: float
    jitter: dict[str, list[list[float]]]

    def to_json(self) -> dict:
        return {"amplitude": self.amplitude, "jitter": self.jitter}


def sample_style(action: Action, rng: np.random.Generator, jitter_deg: float = 6.0) -> Style:
    """Amplitude uniform in [0.75, 1.1]; per key pose, per bone angle jitter ~ N(0, jitter_deg) (rounded to 0.1)."""
    amplitude = round(float(rng.uniform(0.75, 1.1)), 4)
    jitter = {key: np.round(rng.normal(0.0, jitter_deg, (NUM_BONES, 2)), 1).tolist() for key in sorted(action.poses)}
    return Style(amplitude, jitter)


def styled_poses(action: Action, style: Style) -> dict[str, np.ndarray]:
    """The action's key poses (NUM_BONES, 2) as this video performs them."""
    return {key: NEUTRAL + style.amplitude * (pose - NEUTRAL) + np.asarray(style.jitter[key])
            for key, pose in action.poses.items()}
