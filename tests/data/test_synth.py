"""The synthetic action generator: determinism, on-disk format, labels against the ground-truth warp, and that
phases are visible in the figure's pose."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gtalign.data import open_source
from gtalign.data.synth import ACTIONS, VideoSpec, generate_dataset, pose_at, sample_spec
from gtalign.data.synth.appearance import background
from gtalign.data.synth.generate import DONE_FILE, JPEG_QUALITY
from gtalign.data.synth.render import draw_figure, figure_keypoints
from gtalign.data.synth.skeleton import JOINT, forward_kinematics
from gtalign.data.synth.timeline import Warp, canonical_times
from gtalign.errors import GtalignError

TINY = dict(num_classes=2, videos_per_class=3, min_frames=12, max_frames=14, image_size=48, seed=3)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return generate_dataset(tmp_path_factory.mktemp("synth") / "a", workers=0, progress=False, **TINY)


def _digests(manifest: Path) -> dict[str, str]:
    root = manifest.parent
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.jpg"))}


def test_manifest_format_splits_and_labels(tiny):
    source = open_source(tiny)
    assert source.classes == ["squat", "jumping_jack"]
    assert source.manifest.label_names["squat"] == ["stand", "descend", "bottom", "ascend"]
    assert len(source) == 6
    for entry in source.entries:
        files = sorted(Path(entry.path).glob("*.jpg"))
        assert [f.name for f in files] == [f"{t:06d}.jpg" for t in range(entry.num_frames)]
        assert 12 <= entry.num_frames <= 14
        u = np.asarray(entry.meta["canonical_time"])
        assert u.shape == (entry.num_frames,) and np.all(np.diff(u) >= 0) and 0 <= u[0] and u[-1] <= 1
        num_phases = len(source.manifest.label_names[entry.class_name])
        # Independent statement of the label rule: phase p covers canonical times [p/P, (p+1)/P).
        expected = [min(int(x * num_phases), num_phases - 1) for x in u]
        assert entry.labels.tolist() == expected
        assert source.read_frames(entry_index(source, entry.id), [0]).shape == (1, 48, 48, 3)
    splits = {c: [e.split for e in source.entries if e.class_name == c] for c in source.classes}
    assert splits == {"squat": ["train", "train", "val"], "jumping_jack": ["train", "train", "val"]}
    assert len(open_source(tiny, split="val")) == 2


def entry_index(source, video_id: str) -> int:
    return [e.id for e in source.entries].index(video_id)


def test_deterministic_whatever_the_workers_and_resumable(tiny, tmp_path):
    again = generate_dataset(tmp_path / "b", workers=2, progress=False, **TINY)
    assert _digests(again) == _digests(tiny)
    load = lambda p: [{k: v for k, v in e.items() if k != "path"} for e in json.loads(p.read_text())["videos"]]
    assert load(again) == load(tiny)
    # A rerun keeps finished videos; one whose recipe marker does not match is rendered again.
    frame = again.parent / "videos" / "squat_0000" / "000000.jpg"
    stamp = frame.stat().st_mtime_ns
    (again.parent / "videos" / "squat_0001" / DONE_FILE).write_text("stale\n")
    (again.parent / "videos" / "squat_0001" / "000000.jpg").write_bytes(b"broken")
    generate_dataset(tmp_path / "b", workers=0, progress=False, **TINY)
    assert frame.stat().st_mtime_ns == stamp
    assert _digests(again) == _digests(tiny)


def test_seed_changes_the_videos(tiny, tmp_path):
    other = generate_dataset(tmp_path / "c", workers=0, progress=False, **{**TINY, "seed": 4, "videos_per_class": 1,
                                                                           "num_classes": 1})
    a = np.asarray(Image.open(tiny.parent / "videos/squat_0000/000000.jpg"), dtype=np.float32)
    b = np.asarray(Image.open(other.parent / "videos/squat_0000/000000.jpg"), dtype=np.float32)
    assert np.abs(a - b).mean() > 10


def test_meta_renders_the_written_frames_again(tiny):
    entry = open_source(tiny).entries[4]
    spec = VideoSpec.from_meta(entry.meta)
    assert spec.labels.tolist() == entry.labels.tolist()
    written = [p.read_bytes() for p in sorted(Path(entry.path).glob("*.jpg"))]
    rendered = []
    for frame in spec.frames():
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        rendered.append(buffer.getvalue())
    assert len(rendered) == len(written) == entry.num_frames and rendered == written
    with pytest.raises(GtalignError, match="generator"):
        VideoSpec.from_meta({"generator": "other"})


def test_warp_speeds_pauses_and_offsets():
    # Phase 0 takes 1 time unit, phase 1 takes 3: a quarter of the (evenly spaced) frames are in phase 0.
    warp = Warp([1.0, 3.0], pauses=[], start=0.0, end=1.0, lead_in=0.0, lead_out=0.0)
    u = canonical_times(warp, 401)
    expected = np.interp(np.linspace(0, 4, 401), [0, 1, 4], [0, 0.5, 1])
    np.testing.assert_allclose(u, expected, atol=1e-6)
    # From u = 0.1 to 0.9 the two phases take 0.8 + 0.8 units, the pause at u = 0.25 two more and idling before
    # the start one more: of 4.6 units, the pause holds 2 and the first frame's pose 1.
    paused = canonical_times(Warp([1.0, 1.0], [(0.25, 2.0)], 0.1, 0.9, lead_in=1.0, lead_out=0.0), 601)
    assert np.isclose((paused == 0.25).sum() / 600, 2 / 4.6, atol=0.01)
    assert np.isclose((paused == 0.1).sum() / 600, 1 / 4.6, atol=0.01)
    assert paused[0] == 0.1 and paused[-1] == 0.9 and np.all(np.diff(paused) >= 0)


def test_specs_are_reproducible_and_varied():
    a, b = sample_spec(0, 1, 5, 40, 120, 112), sample_spec(0, 1, 5, 40, 120, 112)
    assert a.to_meta() == b.to_meta()
    specs = [sample_spec(0, 0, i, 40, 120, 112) for i in range(30)]
    assert len({s.num_frames for s in specs}) > 10
    for field, spread in (("yaw", 15.0), ("elevation", 3.0), ("height", 0.04), ("center_x", 0.02),
                          ("thickness", 0.008), ("noise", 1.0)):
        assert np.std([getattr(s.appearance, field) for s in specs]) > spread, field
    assert len({tuple(s.appearance.body_color) for s in specs}) == 30
    assert any(s.warp.pauses for s in specs) and any(not s.warp.pauses for s in specs)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_phases_differ_in_pose(action):
    """Mid-phase poses of any two phases differ by >= 0.15 body units at some joint (the figure is ~1.6 tall)."""
    p = action.num_phases
    joints = [forward_kinematics(pose) for pose in pose_at(action, (np.arange(p) + 0.5) / p)]
    for i in range(p):
        for j in range(i + 1, p):
            assert np.abs(joints[i] - joints[j]).max() > 0.15, (action.name, i, j)


def test_squat_labels_follow_the_pose():
    spec = sample_spec(1, 0, 0, 200, 200, 112)
    xy, _ = figure_keypoints(spec.action_def, spec.canonical_time, spec.style, spec.appearance, 112)
    head_y = xy[:, JOINT["head"], 1]  # pixels, down is larger
    labels = spec.labels
    assert set(labels.tolist()) == {0, 1, 2, 3}
    assert head_y[labels == 2].mean() > head_y[labels == 0].mean() + 5  # lower at the bottom than standing
    descend = np.flatnonzero(labels == 1)
    assert head_y[descend[-1]] > head_y[descend[0]]


def test_figure_is_drawn_at_its_keypoints():
    spec = sample_spec(2, 1, 0, 20, 20, 96)
    app = spec.appearance
    app.texture_strength = 0.0
    back = background(app, 96)
    xy, depth = figure_keypoints(spec.action_def, spec.canonical_time, spec.style, app, 96)
    frame = draw_figure(back, xy[10], depth[10], app)
    hx, hy = np.rint(xy[10, JOINT["head"]]).astype(int)
    assert np.abs(frame[hy, hx].astype(int) - app.head_color).max() <= 2
    assert np.array_equal(frame[1, 1], back[1, 1])  # a corner far from the figure keeps the background
    changed = np.abs(frame.astype(int) - back).max(axis=-1) > 0
    assert 0.02 < changed.mean() < 0.4


@pytest.mark.parametrize("bad, match", [({"num_classes": 0}, "num_classes"), ({"num_classes": 99}, "num_classes"),
                                        ({"min_frames": 30, "max_frames": 20}, "max_frames"),
                                        ({"image_size": 8}, "image_size"), ({"seed": -1}, "seed")])
def test_bad_arguments(tmp_path, bad, match):
    with pytest.raises(GtalignError, match=match):
        generate_dataset(tmp_path, **{**TINY, **bad})


def test_retimed_copy_keeps_the_performer_and_follows_the_new_warp():
    from gtalign.data.synth.timeline import canonical_times, sample_warp

    spec = sample_spec(0, 0, 0, 20, 20, 48)
    warp = sample_warp(spec.action_def.num_phases, np.random.default_rng(7))
    copy = spec.retimed(warp, 30)
    assert copy.num_frames == 30 and copy.warp == warp
    np.testing.assert_array_equal(copy.canonical_time, canonical_times(warp, 30))
    assert (copy.style, copy.appearance, copy.noise_seed) == (spec.style, spec.appearance, spec.noise_seed)
    same = spec.retimed(spec.warp, spec.num_frames)  # the original timeline renders the original pixels
    for a, b in zip(spec.frames(), same.frames()):
        np.testing.assert_array_equal(a, b)
