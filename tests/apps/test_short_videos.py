"""A video file that decodes to fewer frames than its header promises (truncated) is reported, not used in part
without a word: by the library (a logged warning) and by every command that reads videos (`gtalign: warning:`)."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from gtalign.apps.inputs import open_videos
from gtalign.cli import main
from gtalign.data.video import write_video


@pytest.fixture(scope="module")
def whole_and_cut(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("truncated")
    rng = np.random.default_rng(0)
    whole = write_video(folder / "whole.avi", rng.integers(0, 255, (120, 64, 64, 3), dtype=np.uint8), 30)
    data = whole.read_bytes()
    cut = folder / "cut.avi"
    cut.write_bytes(data[:int(len(data) * 0.4)])
    return whole, cut


def test_a_truncated_video_is_reported_with_what_is_used(whole_and_cut, caplog):
    whole, cut = whole_and_cut
    with caplog.at_level(logging.WARNING, logger="gtalign"):
        source = open_videos([whole, cut])
    n = source.entries[1].num_frames
    assert 0 < n < 120 and source.entries[0].num_frames == 120
    assert f"{cut}: its header promises 120 frames but only {n} decode" in caplog.text
    assert "whole.avi" not in caplog.text


def test_data_convert_and_info_report_a_truncated_video(whole_and_cut, tmp_path, capsys):
    whole, cut = whole_and_cut
    dataset = tmp_path / "videos" / "wave"
    dataset.mkdir(parents=True)
    for p in (whole, cut):
        (dataset / p.name).symlink_to(p)
    assert main(["data", "info", str(tmp_path / "videos")]) == 0
    err = capsys.readouterr().err
    assert "gtalign: warning: " in err and "cut.avi: its header promises 120 frames but only" in err
    assert "whole.avi" not in err
    assert main(["data", "convert", str(tmp_path / "videos"), "-o", str(tmp_path / "out")]) == 0
    assert "cut.avi: its header promises 120 frames" in capsys.readouterr().err
