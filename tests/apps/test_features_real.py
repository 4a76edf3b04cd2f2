"""Feature streams on small real clips (fetched at set-up time by `make clips`): a person, and no person."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

CLIPS = Path(os.environ.get("GTALIGN_CLIPS") or Path.home() / ".cache" / "gtalign" / "clips")
pytest.importorskip("mediapipe", reason="pose features need the [pose] extra (make test installs it)")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (CLIPS / "carphone_pristine.mp4").exists(),
                                                   reason="real clips missing: run `make clips`")]


def _extract(name: str, spec: str, limit: int = 60):
    from itertools import islice

    from gtalign.apps.features import FeatureExtractor
    from gtalign.data.video import iter_video, probe_video

    path = CLIPS / name
    return FeatureExtractor(spec, device="cpu").extract(islice(iter_video(path), limit), probe_video(path).fps)


def test_person_clip_gives_pose_and_crop_streams():
    from gtalign.apps.features import band_mean

    feats = _extract("carphone_pristine.mp4", "pose+crop:0.5")
    assert set(feats.streams) == {"imagenet", "imagenet_bands", "motion"} and feats.num_frames == 60
    assert len(feats.people) == 1
    bands = feats.streams["imagenet_bands"]
    assert bands.shape == (60, 2 * feats.streams["imagenet"].shape[1])  # two horizontal bands, channel-major
    np.testing.assert_allclose(band_mean(bands, 2), feats.streams["imagenet"], rtol=1e-5, atol=1e-6)
    assert feats.streams["motion"].shape[0] == 60 and np.isfinite(feats.streams["motion"]).all()
    person = feats.people[0]
    assert set(person.streams) == {"pose", "crop"} and person.valid.mean() > 0.9
    assert person.streams["pose"].shape[0] == 60 and np.isfinite(person.streams["pose"]).all()
    assert not feats.notes


def test_clip_without_a_person_falls_back_to_whole_frames_and_says_so():
    from gtalign.apps.features import FeatureSpec, stream_costs

    feats = _extract("tree.avi", "pose")
    assert set(feats.streams) == {"imagenet", "imagenet_bands", "motion"} and not feats.person
    assert any("no pose or person crops" in n for n in feats.notes)
    for motion, streams in [(True, ["imagenet", "motion"]), (False, ["imagenet"])]:
        cost, used = stream_costs(FeatureSpec.parse("pose"), feats, feats, fallback_motion=motion)
        assert used == streams and cost.shape == (60, 60)
        assert np.argmin(cost, axis=1).tolist() == list(range(60))  # a video matches itself frame by frame


@pytest.mark.skipif(not (CLIPS / "p2s_multi_cam01.mp4").exists(), reason="Pose2Sim clips missing: run `make clips`")
def test_two_people_are_tracked_separately_on_a_real_clip():
    """Pose2Sim's two-person demo: the second BlazePose instance, shown the frame with the first person covered,
    follows the other person."""
    from itertools import islice

    from gtalign.apps.pose import track_people
    from gtalign.data.video import iter_video

    tracks = track_people(islice(iter_video(CLIPS / "p2s_multi_cam02.mp4"), 30), max_people=2)
    assert [t.valid.mean() > 0.9 for t in tracks] == [True, True]
    centres = [t.image[:, :, 0].mean(axis=1) for t in tracks]  # horizontal body centres, pixels
    width = np.ptp(tracks[0].image[0, :, 0])
    assert np.all(np.abs(centres[0] - centres[1]) > 0.5 * width)  # two different people, on every frame


def test_cover_hides_the_person_box_only():
    from gtalign.apps.pose import cover

    frame = np.zeros((50, 80, 3), np.uint8)
    pts = np.array([[20.0, 10.0], [40.0, 30.0]] * 16 + [[30.0, 20.0]])
    out = cover(frame, pts, margin=0.1)
    assert (out[8:33, 18:43] == 128).all() and out[:7].max() == 0 and out[:, 44:].max() == 0
    assert frame.max() == 0  # the input is left alone


def test_align_cli_with_features_on_a_real_clip_and_its_retimed_copy(tmp_path):
    import csv
    import json
    from itertools import islice

    from gtalign.cli import main
    from gtalign.data.retime import random_change, random_warp, truth_positions, write_retimed
    from gtalign.data.video import iter_video, probe_video, write_video

    src = CLIPS / "carphone_pristine.mp4"
    fps = probe_video(src).fps
    frames = np.stack(list(islice(iter_video(src), 90)))
    a = write_video(tmp_path / "a.mp4", frames, fps)
    rng = np.random.default_rng(3)
    warp = random_warp(len(frames), fps, rng)
    write_retimed(frames, fps, warp, random_change(rng, 0.5), tmp_path / "b.mp4")
    out = tmp_path / "out"
    assert main(["align", str(a), str(tmp_path / "b.mp4"), "-o", str(out), "--features", "pose+crop:0.5",
                 "--quiet"]) == 0
    rows = list(csv.DictReader(open(out / "correspondence.csv")))
    assert len(rows) == 90 and {"position_b", "matched", "confidence"} <= set(rows[0])
    pos = np.array([float(r["position_b"]) for r in rows])
    assert np.all(np.diff(pos) >= -1e-6)  # never runs backwards
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pairs"][0]["streams"] and 0.0 <= summary["pairs"][0]["confidence"] <= 1.0
    assert 0.0 <= summary["pairs"][0]["cycle_frames"] < 90
    truth, covered = truth_positions(warp, fps, len(frames))
    assert np.isfinite(np.abs(pos[covered] - truth[covered]).mean())


def test_align_cli_rejects_a_bad_feature_spec_before_any_work(tmp_path, capsys):
    from gtalign.cli import main

    src = str(CLIPS / "carphone_pristine.mp4")
    assert main(["align", src, src, "-o", str(tmp_path / "o"), "--features", "posture"]) == 2
    assert "unknown stream 'posture'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_frames_are_scaled_to_the_working_size_once_before_every_stream(monkeypatch):
    """Large frames are scaled to `WORKING_SIDE` before any stream sees them (as `video` decodes them), so 1280 px
    frames give exactly the streams of their scaled copies; `extract_all` decodes at that size."""
    from itertools import islice

    from PIL import Image

    from gtalign.apps.align import extract_all
    from gtalign.apps.features import WORKING_SIDE, FeatureExtractor
    from gtalign.apps.inputs import open_videos
    from gtalign.data.source import VideoSource
    from gtalign.data.video import iter_video, scale_frame

    path = CLIPS / "carphone_pristine.mp4"
    large = [np.asarray(Image.fromarray(f).resize((1280, 1040))) for f in islice(iter_video(path), 12)]
    extractor = FeatureExtractor("pose+crop:0.5+imagenet:0.5", device="cpu")
    direct = extractor.extract(large, 30.0)
    scaled = extractor.extract([scale_frame(f, WORKING_SIDE) for f in large], 30.0)
    assert set(direct.streams) == set(scaled.streams)
    for name in direct.streams:
        np.testing.assert_array_equal(direct.streams[name], scaled.streams[name])
    asked = []
    original = VideoSource.iter_frames

    def spy(self, i, indices=None, max_side=None):
        asked.append(max_side)
        return islice(original(self, i, indices, max_side), 8)

    monkeypatch.setattr(VideoSource, "iter_frames", spy)
    extract_all(open_videos([path]), FeatureExtractor("imagenet", device="cpu"), progress=False)
    assert asked == [WORKING_SIDE]


def test_videos_extracted_in_parallel_threads_give_the_same_streams_in_order():
    """Two videos at a time (threads) give what one after the other gives, in the videos' order, and leave the
    process's stderr where it was (MediaPipe's first frame is silenced by redirecting it)."""
    import os

    from gtalign.apps.align import extract_all
    from gtalign.apps.features import FeatureExtractor
    from gtalign.apps.inputs import open_videos

    source = open_videos([CLIPS / "carphone_pristine.mp4", CLIPS / "tree.avi"])
    extractor = FeatureExtractor("pose+crop:0.5+imagenet:0.5", device="cpu")
    stderr_before = os.fstat(2)
    parallel = extract_all(source, extractor, progress=False, workers=2)
    one_by_one = extract_all(source, extractor, progress=False, workers=1)
    assert (os.fstat(2).st_dev, os.fstat(2).st_ino) == (stderr_before.st_dev, stderr_before.st_ino)
    assert [f.num_frames for f in parallel] == [e.num_frames for e in source.entries]
    for a, b in zip(parallel, one_by_one):
        assert a.streams.keys() == b.streams.keys() and len(a.people) == len(b.people)
        for name in a.streams:
            np.testing.assert_array_equal(a.streams[name], b.streams[name])


def test_a_stride_looks_at_every_kth_frame_and_interpolates_the_rest(monkeypatch):
    """Stride 3: the networks see 20 of 60 frames; every stream still has 60 rows; motion (cheap) is measured on every
    frame, as without a stride; the pose descriptors follow the ones measured on every frame."""
    from itertools import islice

    from gtalign.apps import features
    from gtalign.data.video import iter_video, probe_video

    path = CLIPS / "carphone_pristine.mp4"
    frames = list(islice(iter_video(path), 60))
    fps = probe_video(path).fps
    seen = []
    original = features._Trunk.__call__
    monkeypatch.setattr(features._Trunk, "__call__", lambda self, fs: seen.append(len(fs)) or original(self, fs))
    every = features.FeatureExtractor("pose+crop:0.5+imagenet:0.5", device="cpu").extract(frames, fps)
    seen.clear()
    third = features.FeatureExtractor("pose+crop:0.5+imagenet:0.5", device="cpu", stride=3).extract(frames, fps)
    assert sum(seen) == 2 * 20   # whole frames and one person's crops, 20 frames each
    assert third.num_frames == 60 and len(third.people) == 1
    np.testing.assert_array_equal(third.streams["motion"], every.streams["motion"])
    for name, x in list(third.streams.items()) + list(third.people[0].streams.items()):
        assert x.shape[0] == 60 and np.isfinite(x).all(), name
    a, b = third.people[0].streams["pose"], every.people[0].streams["pose"]
    half = a.shape[1] // 2   # the descriptors (then their velocities); on this talking head 0.77 (stride 2: 0.87)
    assert np.corrcoef(a[:, :half].ravel(), b[:, :half].ravel())[0, 1] > 0.6


def test_align_decodes_each_video_once_for_features_and_outputs(tmp_path, monkeypatch):
    """The side-by-side and viewer videos are made from the frames the features pass decoded (`apps.display`):
    every decode is at the working size, none at the display size."""
    from itertools import islice

    from gtalign.apps.align import align_videos
    from gtalign.apps.features import WORKING_SIDE, FeatureExtractor
    from gtalign.apps.inputs import open_videos
    from gtalign.data.source import VideoSource
    from gtalign.data.video import iter_video, probe_video, write_video

    src = CLIPS / "carphone_pristine.mp4"
    frames = np.stack(list(islice(iter_video(src), 40)))
    a = write_video(tmp_path / "a.mp4", frames, 30.0)
    b = write_video(tmp_path / "b.mp4", frames[5:], 30.0)
    asked = []
    original = VideoSource.iter_frames

    def spy(self, i, indices=None, max_side=None):
        asked.append(max_side)
        return original(self, i, indices, max_side)

    monkeypatch.setattr(VideoSource, "iter_frames", spy)
    out = tmp_path / "out"
    align_videos(open_videos([a, b]), None, out, extractor=FeatureExtractor("pose+imagenet:0.5", device="cpu"),
                 max_side=96, progress=False)
    assert asked == [WORKING_SIDE, WORKING_SIDE]
    shown = probe_video(next(out.glob("video_b.*")))
    assert shown.num_frames == 35 and max(shown.height, shown.width) <= 96
    assert probe_video(next(out.glob("side_by_side.*"))).num_frames == 40


def test_the_features_bar_counts_frames_of_every_video(tmp_path, monkeypatch):
    """The bar's unit is the frame (a rate and an ETA while two long videos are extracted), and it ends at the
    frames of all videos, moved from both threads."""
    from itertools import islice

    import gtalign.apps.align as align_mod
    from gtalign.apps.align import extract_all
    from gtalign.apps.features import FeatureExtractor
    from gtalign.apps.inputs import open_videos
    from gtalign.data.video import iter_video, write_video

    frames = np.stack(list(islice(iter_video(CLIPS / "carphone_pristine.mp4"), 30)))
    paths = [write_video(tmp_path / "a.mp4", frames[:30], 30.0), write_video(tmp_path / "b.mp4", frames[:21], 30.0)]
    bars = []

    class Bar:
        def __init__(self, total, desc, unit, disable):
            self.total, self.unit, self.n = total, unit, 0
            bars.append(self)

        def update(self, n):
            self.n += n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

    monkeypatch.setattr(align_mod, "tqdm", Bar)
    extract_all(open_videos(paths), FeatureExtractor("imagenet", device="cpu"), workers=2)
    assert [(b.unit, b.total, b.n) for b in bars] == [("frame", 51, 51)]
