"""Frame indices into a video of known length: checked, strictly increasing (for streaming), or both."""
from __future__ import annotations

import numpy as np

from gtalign.errors import GtalignError


def checked_indices(indices: np.ndarray | None, num_frames: int, what: str) -> np.ndarray:
    """Frame indices as int64 (n,) (all frames when None); GtalignError when one is outside [0, num_frames)."""
    idx = np.arange(num_frames) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= num_frames):
        raise GtalignError(f"frame indices {idx.min()}..{idx.max()} out of range for {what} ({num_frames} frames)")
    return idx


def increasing_indices(indices: np.ndarray | None, what: str) -> np.ndarray | None:
    """`indices` as int64 (n,) (None stays None); GtalignError unless they strictly increase."""
    if indices is None:
        return None
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size > 1 and np.any(np.diff(idx) <= 0):
        raise GtalignError(f"frame indices streamed from {what} must be strictly increasing")
    return idx


def streamed_indices(indices: np.ndarray | None, num_frames: int, what: str) -> list[int]:
    """The frame indices a stream of `what` yields (all `num_frames` when None): GtalignError unless they strictly
    increase and lie in [0, num_frames)."""
    return checked_indices(increasing_indices(indices, what), num_frames, what).tolist()
