"""`gtalign sync` and `gtalign audit` on small real clips (fetched at set-up time by `make clips`): a known offset
with a frame-rate mismatch, drift, a camera that overlaps nothing, and an audit that finds the camera that is off."""
from __future__ import annotations

import csv
import json
import os
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from gtalign.cli import main
from gtalign.cli.commands import apps as commands
from gtalign.data.retime import Warp
from gtalign.data.video import iter_video, probe_video, write_video

CLIPS = Path(os.environ.get("GTALIGN_CLIPS") or Path.home() / ".cache" / "gtalign" / "clips")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CLIPS / "p2s_single_cam01.mp4").exists() or not (CLIPS / "vtest.avi").exists(),
                                 reason="real clips missing: run `make clips`")]


def _camera(src: Path, out: Path, start_s: float, fps: float, drift: float = 1.0, limit: int | None = None,
            side: int = 360) -> Path:
    """`src` as another camera would film it: starting `start_s` into it, at `fps`, its clock running `drift` source
    seconds per second; scaled to `side` pixels."""
    from PIL import Image

    fps0 = probe_video(src).fps
    frames = []
    for f in islice(iter_video(src), limit):
        s = side / max(f.shape[:2])
        frames.append(np.asarray(Image.fromarray(f).resize((round(f.shape[1] * s), round(f.shape[0] * s)))))
    duration = len(frames) / fps0
    times = start_s + drift * np.arange(0.0, (duration - start_s) / drift, 1.0 / fps)
    idx = Warp(times, fps, "").source_frames(fps0, len(frames))
    return write_video(out, np.stack([frames[int(i)] for i in idx]), fps)


def test_sync_finds_a_known_offset_across_frame_rates_and_flags_a_camera_that_overlaps_nothing(tmp_path):
    """Two real views of one movement (Pose2Sim's cameras 1 and 2): camera 2 starts 0.25 s later and runs at 30 fps.
    A third camera shows another scene."""
    ref = _camera(CLIPS / "p2s_single_cam01.mp4", tmp_path / "cam1.mp4", 0.0, 60.0)
    late = _camera(CLIPS / "p2s_single_cam02.mp4", tmp_path / "cam2.mp4", 0.25, 30.0)
    other = _camera(CLIPS / "tree.avi", tmp_path / "tree.mp4", 0.0, 15.0)
    out = tmp_path / "out"
    assert main(["sync", str(ref), str(late), str(other), "-o", str(out), "--quiet"]) == 0
    doc = json.loads((out / "sync.json").read_text())
    assert doc["reference"] == "cam1.mp4"
    cams = {c["video"]: c for c in doc["cameras"]}
    assert list(cams) == ["cam1.mp4", "cam2.mp4", "tree.mp4"]
    # camera 2 shows reference time t at t - 0.25 s
    assert cams["cam2.mp4"]["rate"] == 1.0  # 1.7 s of footage: too short to estimate drift
    assert abs(cams["cam2.mp4"]["offset_s"] + 0.25) * 60 <= 1.5, cams["cam2.mp4"]  # frames at 60 fps
    # found about 0.7 frames off with confidence about 0.7 (the "ok" threshold): clearly above the other scene's
    assert cams["cam2.mp4"]["confidence"] >= 0.6
    assert cams["tree.mp4"]["status"] == "unreliable" and cams["tree.mp4"]["offset_s"] is None
    assert cams["tree.mp4"]["confidence"] == 0.0 and "no consistent overlap" in cams["tree.mp4"]["reason"]
    # the two views of one person compare the person (whole frames were a candidate and lost); the tree has nobody
    pairs = {(p["a"], p["b"]): p for p in doc["pairs"]}
    assert pairs[("cam1.mp4", "cam2.mp4")]["people"] == [0, 0] and "pose" in pairs[("cam1.mp4", "cam2.mp4")]["streams"]
    assert pairs[("cam1.mp4", "tree.mp4")]["people"] is None
    assert pairs[("cam1.mp4", "tree.mp4")]["streams"] == ["imagenet"]
    rows = list(csv.DictReader(open(out / "sync.csv")))
    assert [r["video"] for r in rows] == list(cams) and rows[1]["status"] == cams["cam2.mp4"]["status"]
    assert (out / "residuals.png").stat().st_size > 0 and (out / "viewer.html").exists()


def test_sync_recovers_drift_on_longer_footage_and_writes_synced_videos(tmp_path):
    """OpenCV's pedestrians, 40 s at 10 fps: the second camera's clock runs 1% fast and starts 2 s in."""
    src = CLIPS / "vtest.avi"
    ref = _camera(src, tmp_path / "a.mp4", 0.0, 10.0, limit=400, side=240)
    cam = _camera(src, tmp_path / "b.mp4", 2.0, 10.0, drift=1.01, limit=400, side=240)
    out = tmp_path / "out"
    assert main(["sync", str(ref), str(cam), "-o", str(out), "--features", "imagenet", "--write-videos",
                 "--quiet"]) == 0
    c = json.loads((out / "sync.json").read_text())["cameras"][1]
    # b's time showing source time T is (T - 2) / 1.01, and a's is T: t_b = -2 / 1.01 + t_a / 1.01
    assert abs(c["rate"] - 1 / 1.01) < 0.002, c
    t = np.linspace(0, 30, 7)
    assert np.abs(c["offset_s"] + c["rate"] * t - (t - 2.0) / 1.01).max() * 10 <= 1.0, c  # frames at 10 fps
    synced = sorted((out / "synced").iterdir())
    assert [p.name for p in synced] == ["a.mp4", "b.mp4"]
    assert probe_video(synced[0]).num_frames == probe_video(synced[1]).num_frames


def test_audit_lists_the_camera_that_is_off_and_strict_fails(tmp_path, monkeypatch):
    folder = tmp_path / "dataset"
    folder.mkdir()
    _camera(CLIPS / "p2s_single_cam01.mp4", folder / "cam1.mp4", 0.0, 60.0)
    _camera(CLIPS / "p2s_single_cam03.mp4", folder / "cam3.mp4", 0.0, 60.0)  # in sync
    _camera(CLIPS / "p2s_single_cam02.mp4", folder / "cam2.mp4", 0.2, 60.0)  # 12 frames late
    synced = []
    real_sync = commands.sync_videos
    monkeypatch.setattr(commands, "sync_videos", lambda *a, **k: synced.append(real_sync(*a, **k)) or synced[-1])
    assert main(["audit", str(folder), "--quiet"]) == 0
    audit = json.loads((folder / "gtalign_audit" / "audit.json").read_text())
    off = {c["video"]: c["off"] for c in audit["cameras"]}
    # cam3 is in sync but seen from behind: within tolerance, or "cannot tell" (None) on 1.7 s of footage
    assert off["cam1.mp4"] is False and off["cam2.mp4"] is True and off["cam3.mp4"] is not True, audit
    # --strict on the same cameras: the clocks found above (synchronising them again would only repeat that work)
    monkeypatch.setattr(commands, "sync_videos", lambda *a, **k: synced[0])
    assert main(["audit", str(folder), "--quiet", "--strict", "-o", str(tmp_path / "again")]) == 1
    assert json.loads((tmp_path / "again" / "audit.json").read_text())["cameras"] == audit["cameras"]


def test_sync_and_audit_refuse_bad_input_before_any_work(tmp_path, capsys):
    a = tmp_path / "a.mp4"
    a.write_bytes(b"")
    assert main(["sync", str(a), "-o", str(tmp_path / "o")]) == 2
    assert "two or more" in capsys.readouterr().err
    src, other = str(CLIPS / "p2s_single_cam01.mp4"), str(CLIPS / "p2s_single_cam02.mp4")
    assert main(["sync", src, other, "-o", str(tmp_path / "o"), "--reference", "nope.mp4"]) == 2
    assert "--reference 'nope.mp4' is not one of the videos" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as e:  # refused by the parser
        main(["sync", src, other, "-o", str(tmp_path / "file")])
    assert e.value.code == 2 and "is a file" in capsys.readouterr().err
    assert main(["audit", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
