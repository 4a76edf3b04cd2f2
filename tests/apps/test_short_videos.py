"""A video file that decodes to fewer frames than its header promises (truncated) is reported, not used in part
without a word."""
from __future__ import annotations

import numpy as np

from gtalign.apps.inputs import open_videos
from gtalign.data.video import write_video


def test_a_truncated_video_is_reported_with_what_is_used(tmp_path, capsys):
    rng = np.random.default_rng(0)
    whole = write_video(tmp_path / "whole.avi", rng.integers(0, 255, (120, 64, 64, 3), dtype=np.uint8), 30)
    data = whole.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:int(len(data) * 0.4)])
    source = open_videos([whole, cut])
    err = capsys.readouterr().err
    n = source.entries[1].num_frames
    assert 0 < n < 120 and source.entries[0].num_frames == 120
    assert f"{cut}: its header promises 120 frames but only {n} decode" in err and "whole.avi" not in err
