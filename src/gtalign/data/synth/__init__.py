"""The synthetic action dataset: procedurally drawn articulated figures performing phased actions.

`generate_dataset(out_dir, ...)` writes frame folders and a manifest whose per-frame labels are the phases and
whose `meta` holds each video's ground-truth time warp (`canonical_time`, one value in [0, 1] per frame) and
its random appearance; `VideoSpec.from_meta(meta).frames()` renders a video again from its manifest entry.
"""
from gtalign.data.synth.actions import ACTION_NAMES, ACTIONS, Action, phase_of, pose_at
from gtalign.data.synth.generate import generate_dataset, write_video
from gtalign.data.synth.spec import VideoSpec, sample_spec

__all__ = ["ACTIONS", "ACTION_NAMES", "Action", "VideoSpec", "generate_dataset", "phase_of", "pose_at",
           "sample_spec", "write_video"]
