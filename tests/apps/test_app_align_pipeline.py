"""`align_videos` end to end on coded videos with known warps, different frame rates, a frame folder and a video
file, and extra leading content: the CSV, the side-by-side video, the viewer and the summary."""
import csv
import json
import re

import numpy as np
import pytest

from gtalign.apps.align import CSV_COLUMNS, align_videos
from gtalign.apps.alignment import PathSettings
from gtalign.apps.inputs import open_videos
from gtalign.data.video import probe_video
from tests._helpers.apps import PixelEncoder, nearest_frame, write_coded

FPS_A, FPS_B = 20.0, 30.0
U_A = np.interp(np.linspace(0, 1, 40), [0, 0.4, 1], [0, 0.7, 1])                     # fast, then slow
LEAD = 8                                                                              # B idles 8 frames first
U_B = np.r_[np.zeros(LEAD), np.interp(np.linspace(0, 1, 62), [0, 0.5, 1], [0, 0.3, 1])]


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    root = tmp_path_factory.mktemp("align")
    a = write_coded(root / "a_frames", U_A, folder=True)
    b = write_coded(root / "b.avi", U_B, fps=FPS_B)
    c = write_coded(root / "c.avi", U_A[::-1].copy(), fps=FPS_B)  # the process played backwards
    source = open_videos([a, b, c], fps=FPS_A)
    summary = align_videos(source, PixelEncoder(), root / "out", max_side=64, progress=False)
    return root / "out", summary


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def test_csv_recovers_the_warp_with_times_in_seconds(aligned):
    out, summary = aligned
    pair = out / "01_b"
    header, rows = read_csv(pair / "correspondence.csv")
    assert tuple(header) == CSV_COLUMNS and len(rows) == len(U_A)
    np.testing.assert_array_equal(rows[:, 0], np.arange(len(U_A)))
    np.testing.assert_allclose(rows[:, 1], np.arange(len(U_A)) / FPS_A, atol=1e-6)
    truth = nearest_frame(U_A, U_B)
    truth[0] = LEAD  # B's idle lead-in all shows u = 0: its last frame is where the action starts
    error = np.abs(rows[:, 2] - truth)
    assert error[1:].mean() < 1.0 and error[1:].max() <= 2
    np.testing.assert_allclose(rows[:, 3] * FPS_B, rows[:, 2], atol=0.5 + 1e-3)  # time of B = its frame / its fps


def test_summary_reports_span_and_same_process(aligned):
    out, summary = aligned
    assert json.loads((out / "summary.json").read_text()) == summary
    b, c = summary["pairs"]
    # B starts about half as fast as A, so A's first frame also matches B's first 1-2 moving frames
    first = b["span"]["b_frames"][0]
    assert LEAD <= first <= LEAD + 2 and b["span"]["b_extra_frames"][0] == first
    assert b["span"]["b_seconds"][0] == pytest.approx(first / FPS_B)
    assert b["span"]["a_frames"] == [0, len(U_A) - 1]
    assert f"b has {first} extra frame(s) at its start" in b["span_message"]
    assert b["same_process"]["same_process"] is True
    assert c["same_process"]["same_process"] is False and "WARNING" in c["same_process"]["message"]


def test_videos_and_viewer(aligned):
    out, _ = aligned
    pair = out / "01_b"
    info = probe_video(next(pair.glob("side_by_side.*")))
    assert info.num_frames == len(U_A) and info.fps == pytest.approx(FPS_A)
    assert (pair / "alignment.png").stat().st_size > 0
    page = (pair / "viewer.html").read_text()
    sources = re.findall(r'<video id="video[AB]" src="([^"]+)"', page)
    assert len(sources) == 2 and all((pair / s).is_file() for s in sources)
    data = json.loads(re.search(r'id="alignment">(.*?)</script>', page, re.S).group(1))
    _, rows = read_csv(pair / "correspondence.csv")
    np.testing.assert_allclose(data["time_b"], rows[:, 3], atol=1e-5)
    assert data["fps_a"] == FPS_A and data["fps_b"] == FPS_B
    assert probe_video(pair / sources[1]).num_frames == len(U_B)


def test_soft_alignment_two_videos_write_to_out(tmp_path):
    a = write_coded(tmp_path / "a.avi", U_A, fps=FPS_A)
    b = write_coded(tmp_path / "b.avi", U_B, fps=FPS_B)
    summary = align_videos(open_videos([a, b]), PixelEncoder(), tmp_path / "out", soft=True, gamma=0.001,
                           max_side=64, progress=False)
    assert summary["pairs"][0]["soft"] is True and summary["pairs"][0]["folder"] == str(tmp_path / "out")
    _, rows = read_csv(tmp_path / "out" / "correspondence.csv")
    truth = nearest_frame(U_A, U_B)
    assert len(rows) == len(U_A) and np.abs(rows[1:, 3] * FPS_B - truth[1:]).mean() < 1.0


def test_display_frames_stream_a_video_file_once(tmp_path, monkeypatch):
    """All frames, scaled to max side 32 (from 48 x 64) as resizing every frame read would (a video file is scaled
    by the decoder, to within a few grey levels); one decode."""
    from PIL import Image

    import gtalign.data.video as video
    from gtalign.apps.inputs import read_display_frames

    source = open_videos([write_coded(tmp_path / "b.avi", U_B), write_coded(tmp_path / "a", U_A, folder=True)])
    opened = []
    decode = video._decode
    monkeypatch.setattr(video, "_decode", lambda *a, **k: opened.append(a[0]) or decode(*a, **k))
    for i in range(2):
        expected = np.stack([np.asarray(Image.fromarray(f).resize((32, 24), Image.BILINEAR))
                             for f in source.read_frames(i)])
        opened.clear()
        got = read_display_frames(source, i, max_side=32)
        assert got.shape == expected.shape and got.dtype == np.uint8
        assert np.abs(got.astype(int) - expected.astype(int)).mean() < (3 if i == 0 else 1e-9)
        assert len(opened) == (1 if i == 0 else 0)


def _viewer_data(folder):
    page = (folder / "viewer.html").read_text()
    return json.loads(re.search(r'id="alignment">(.*?)</script>', page, re.S).group(1))


def test_the_viewer_draws_a_calibrated_confidence_and_not_drop_dtws_matched_flags(tmp_path):
    a = write_coded(tmp_path / "a.avi", U_A, fps=FPS_A)
    b = write_coded(tmp_path / "b.avi", U_B, fps=FPS_B)
    source = open_videos([a, b])
    align_videos(source, PixelEncoder(), tmp_path / "path", constrained=True, max_side=64, progress=False)
    confidence = _viewer_data(tmp_path / "path")["confidence"]
    assert len(confidence) == len(U_A) and all(0.0 <= c <= 1.0 for c in confidence)
    assert len(set(confidence)) > 2  # a probability per frame, not matched-or-not flags
    align_videos(source, PixelEncoder(), tmp_path / "drop", constrained=True, path_settings=PathSettings(drop=True),
                 max_side=64, progress=False)
    assert _viewer_data(tmp_path / "drop")["confidence"] is None
