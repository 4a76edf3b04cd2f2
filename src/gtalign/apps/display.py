"""The frames a person looks at in `align`'s and `sync`'s outputs (side-by-side video, viewer), kept from the
features pass instead of decoding every video a second time.

On two 60 s 1080p videos, decoding them again at 480 px for the outputs took 21 s of `align`'s 224 s
(docs/performance.md); scaling the working-size frames the features pass decodes anyway takes a few.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from gtalign.apps.features import WORKING_SIDE
from gtalign.apps.inputs import read_display_frames
from gtalign.data.source import VideoSource
from gtalign.data.video import scale_frame

#: At most this many bytes of display frames are kept for all videos together (an upper bound: square frames);
#: beyond it the outputs decode each video again, one at a time.
KEEP_BYTES = 4 << 30


class DisplayFrames:
    """One video's frames scaled down to at most `max_side` pixels, collected as another pass decodes them."""

    def __init__(self, max_side: int) -> None:
        self.max_side = int(max_side)
        self.frames: list[np.ndarray] = []

    def tap(self, frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield `frames` unchanged, keeping a scaled copy of each."""
        for frame in frames:
            self.frames.append(scale_frame(frame, self.max_side))
            yield frame

    def take(self) -> np.ndarray:
        """The kept frames as one uint8 array (T, H, W, 3), released from this holder (so a video's frames are not
        held twice, as a list and as the array)."""
        out = np.stack(self.frames)
        self.frames = []
        return out


def display_taps(source: VideoSource, max_side: int) -> list[DisplayFrames] | None:
    """One `DisplayFrames` per video when the features pass can provide them: its frames are at least `max_side`
    (`WORKING_SIDE`) and all of them fit in `KEEP_BYTES`; else None (decode again with `display_frames`)."""
    frames = sum(e.num_frames for e in source.entries)
    if max_side > WORKING_SIDE or frames * max_side * max_side * 3 > KEEP_BYTES:
        return None
    return [DisplayFrames(max_side) for _ in source.entries]


def display_frames(source: VideoSource, i: int, max_side: int, kept: Sequence[DisplayFrames] | None) -> np.ndarray:
    """Video i's display frames: the kept ones when there are (taken: a second call decodes again), else decoded
    again (`inputs.read_display_frames`)."""
    if kept is not None and kept[i].frames:
        return kept[i].take()
    return read_display_frames(source, i, max_side)
