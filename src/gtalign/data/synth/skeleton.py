"""The articulated figure: a 3D stick skeleton posed by bone directions, seen by an orthographic camera.

A pose is an array of bone angles `(NUM_BONES, 2)` in degrees, one `(theta, phi)` pair per bone in `BONES`:
starting from a bone pointing straight down, `theta` swings it sideways in the frontal plane (outwards for a
limb, towards the figure's left for the torso) and `phi` then swings it forwards in the sagittal plane. The
torso's neutral pose is `(0, 180)` (straight up); the limbs' is about `(0, 0)` (hanging down).
Body units: a standing figure is about 1.6 units tall, with arms overhead about 1.95.
"""
from __future__ import annotations

import numpy as np

BONES = ("torso", "l_upper_arm", "l_forearm", "r_upper_arm", "r_forearm",
         "l_thigh", "l_shin", "r_thigh", "r_shin")
NUM_BONES = len(BONES)

JOINTS = ("pelvis", "neck", "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
          "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle")
JOINT = {name: j for j, name in enumerate(JOINTS)}

# The segments drawn as limbs (joint a, joint b, is the right side, relative thickness).
SEGMENTS = (
    ("pelvis", "neck", False, 1.7),
    ("l_shoulder", "r_shoulder", False, 1.2), ("l_hip", "r_hip", False, 1.2),
    ("l_shoulder", "l_elbow", False, 1.0), ("l_elbow", "l_wrist", False, 0.9),
    ("r_shoulder", "r_elbow", True, 1.0), ("r_elbow", "r_wrist", True, 0.9),
    ("l_hip", "l_knee", False, 1.2), ("l_knee", "l_ankle", False, 1.0),
    ("r_hip", "r_knee", True, 1.2), ("r_knee", "r_ankle", True, 1.0),
)

TORSO_LENGTH = 0.52
HEAD_OFFSET = 0.17          # neck to the head's centre, along the torso
SHOULDER_HALF_WIDTH = 0.17
HIP_HALF_WIDTH = 0.09
UPPER_ARM, FOREARM = 0.29, 0.27
THIGH, SHIN = 0.42, 0.42
REACH = 1.95                # height of the wrists above the ground with arms straight up


def bone_direction(theta_deg: np.ndarray, phi_deg: np.ndarray, side: float = 1.0) -> np.ndarray:
    """Unit vectors (..., 3) (x: figure's left, y: up, z: forward) of bones with angles `theta`, `phi` (...).

    `side` is +1 for the left side (outwards is +x) and -1 for the right side.
    """
    theta, phi = np.radians(theta_deg), np.radians(phi_deg)
    return np.stack([side * np.sin(theta), -np.cos(theta) * np.cos(phi), np.cos(theta) * np.sin(phi)], axis=-1)


def forward_kinematics(pose: np.ndarray) -> np.ndarray:
    """Joint positions (len(JOINTS), 3) of a pose (NUM_BONES, 2), feet on the ground (lowest ankle at y = 0)."""
    pose = np.asarray(pose, dtype=np.float64)
    b = {name: pose[k] for k, name in enumerate(BONES)}

    def direction(bone: str, side: float = 1.0) -> np.ndarray:
        return bone_direction(b[bone][0], b[bone][1], side)

    torso = direction("torso")
    # The shoulder and hip axes stay perpendicular to a torso leaning sideways (theta) in the frontal plane.
    across = np.array([np.cos(np.radians(b["torso"][0])), -np.sin(np.radians(b["torso"][0])), 0.0])
    p = {"pelvis": np.zeros(3)}
    p["neck"] = p["pelvis"] + TORSO_LENGTH * torso
    p["head"] = p["neck"] + HEAD_OFFSET * torso
    for prefix, side in (("l", 1.0), ("r", -1.0)):
        p[f"{prefix}_shoulder"] = p["neck"] + side * SHOULDER_HALF_WIDTH * across
        p[f"{prefix}_elbow"] = p[f"{prefix}_shoulder"] + UPPER_ARM * direction(f"{prefix}_upper_arm", side)
        p[f"{prefix}_wrist"] = p[f"{prefix}_elbow"] + FOREARM * direction(f"{prefix}_forearm", side)
        p[f"{prefix}_hip"] = p["pelvis"] + side * HIP_HALF_WIDTH * np.array([1.0, 0.0, 0.0])
        p[f"{prefix}_knee"] = p[f"{prefix}_hip"] + THIGH * direction(f"{prefix}_thigh", side)
        p[f"{prefix}_ankle"] = p[f"{prefix}_knee"] + SHIN * direction(f"{prefix}_shin", side)
    joints = np.stack([p[name] for name in JOINTS])
    joints[:, 1] -= min(joints[JOINT["l_ankle"], 1], joints[JOINT["r_ankle"], 1])
    return joints


def camera_rotation(yaw_deg: float, elevation_deg: float) -> np.ndarray:
    """Rotation (3, 3) from body to camera coordinates: turn the figure by `yaw` about the vertical axis, then
    tilt by `elevation` (a camera above the figure looking down for positive values)."""
    yaw, el = np.radians(yaw_deg), np.radians(elevation_deg)
    ry = np.array([[np.cos(yaw), 0.0, np.sin(yaw)], [0.0, 1.0, 0.0], [-np.sin(yaw), 0.0, np.cos(yaw)]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(el), -np.sin(el)], [0.0, np.sin(el), np.cos(el)]])
    return rx @ ry


def project(joints: np.ndarray, rotation: np.ndarray, scale: float, anchor: tuple[float, float]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Orthographic projection of joints (J, 3) to pixel coordinates (J, 2) (x right, y down) and depth (J,)
    (larger is nearer the camera); the ground point under the pelvis lands on `anchor` (pixels)."""
    cam = joints @ rotation.T
    xy = np.stack([anchor[0] + scale * cam[:, 0], anchor[1] - scale * cam[:, 1]], axis=-1)
    return xy, cam[:, 2]
