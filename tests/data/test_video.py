"""Video decoding with PyAV: exact frame counts, frame order, time-based resampling, variable frame rate."""
from fractions import Fraction

import av
import numpy as np
import pytest

import gtalign.data.video as video_module
from gtalign.apps.inputs import open_videos
from gtalign.data.manifest import Manifest, VideoEntry
from gtalign.data.source import VideoSource
from gtalign.data.video import (
    is_video_file,
    iter_video,
    probe_video,
    read_video,
    read_video_segment,
    resample_by_time,
    resize_short_side,
    scale_frame,
    scaled_size,
    write_video,
)
from gtalign.errors import GtalignError


def ramp(n: int, h: int = 32, w: int = 48) -> np.ndarray:
    """Frame j is a flat colour (8 j, 255 - 8 j, 128): easy to recognise after lossy coding."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    for j in range(n):
        frames[j] = (8 * j, 255 - 8 * j, 128)
    return frames


def frame_ids(frames: np.ndarray) -> np.ndarray:
    return np.round(frames[:, :, :, 0].mean(axis=(1, 2)) / 8).astype(int)


def test_write_probe_read_roundtrip(tmp_path):
    path = write_video(tmp_path / "a.mp4", ramp(20), fps=25)
    info = probe_video(path)
    assert (info.num_frames, info.height, info.width) == (20, 32, 48)
    assert info.fps == pytest.approx(25.0)
    frames = read_video(path)
    assert frames.shape == (20, 32, 48, 3) and frames.dtype == np.uint8
    assert np.abs(frames.astype(int) - ramp(20).astype(int)).mean() < 4
    np.testing.assert_array_equal(frame_ids(frames), np.arange(20))


def test_frames_may_come_one_at_a_time_and_must_keep_one_size(tmp_path):
    """A generator is encoded as it yields (what the side-by-side video streams), equal to the array; a frame of
    another size or type stops it with the sizes, and nothing is left at the output path."""
    path = write_video(tmp_path / "g.mp4", (f for f in ramp(20)), fps=25)
    np.testing.assert_array_equal(read_video(path), read_video(write_video(tmp_path / "a.mp4", ramp(20), fps=25)))
    with pytest.raises(GtalignError, match=r"like the first, got uint8 \(16, 48, 3\)"):
        write_video(tmp_path / "bad.mp4", iter([ramp(1)[0], ramp(1, h=16)[0]]))
    assert not (tmp_path / "bad.mp4").exists()
    for bad, match in ((iter([]), "no frames"), (np.zeros((2, 4, 4, 3)), "float64"),
                       (iter([np.zeros((4, 4), np.uint8)]), r"a first frame uint8 \(4, 4\)")):
        with pytest.raises(GtalignError, match=match):
            write_video(tmp_path / "bad.mp4", bad)


def test_read_indices_in_order_with_repeats(tmp_path):
    path = write_video(tmp_path / "a.mp4", ramp(12), fps=10)
    np.testing.assert_array_equal(frame_ids(read_video(path, [7, 2, 7, 0])), [7, 2, 7, 0])
    with pytest.raises(GtalignError, match="out of range"):
        read_video(path, [3, 12])
    with pytest.raises(GtalignError, match=">= 0"):
        read_video(path, [-1])


def count_decodes(monkeypatch) -> dict[str, int]:
    """Wrap the decoder so the test sees how many times a file is opened and how many frames come out of it."""
    counts = {"opened": 0, "frames": 0}
    decode = video_module._decode

    def counting(*args, **kwargs):
        counts["opened"] += 1
        for frame in decode(*args, **kwargs):
            counts["frames"] += 1
            yield frame

    monkeypatch.setattr(video_module, "_decode", counting)
    return counts


def test_iter_video_streams_the_asked_frames_decoding_once(tmp_path, monkeypatch):
    path = write_video(tmp_path / "a.mp4", ramp(20), fps=10)
    everything = read_video(path)
    counts = count_decodes(monkeypatch)
    np.testing.assert_array_equal(np.stack(list(iter_video(path))), everything)
    assert counts == {"opened": 1, "frames": 20}
    wanted = [0, 3, 4, 11]
    np.testing.assert_array_equal(np.stack(list(iter_video(path, np.array(wanted)))), everything[wanted])
    assert counts == {"opened": 2, "frames": 20 + 12}  # stops at the last index asked
    assert list(iter_video(path, [])) == []
    with pytest.raises(GtalignError, match="strictly increasing"):
        list(iter_video(path, [4, 2]))
    with pytest.raises(GtalignError, match="out of range"):
        list(iter_video(path, [19, 20]))


def test_source_iter_frames_equals_read_frames_for_files_and_folders(tmp_path, monkeypatch):
    from PIL import Image

    file = write_video(tmp_path / "a.mp4", ramp(15), fps=10)
    folder = tmp_path / "frames"
    folder.mkdir()
    for j, image in enumerate(ramp(15)):
        Image.fromarray(image).save(folder / f"{j:06d}.png")
    source = VideoSource(Manifest("two", [VideoEntry(id="file", path=file, num_frames=15),
                                          VideoEntry(id="folder", path=folder, num_frames=15)]))
    wanted = np.array([1, 2, 8, 14])
    for i in range(2):
        np.testing.assert_array_equal(np.stack(list(source.iter_frames(i))), source.read_frames(i))
        np.testing.assert_array_equal(np.stack(list(source.iter_frames(i, wanted))), source.read_frames(i, wanted))
        with pytest.raises(GtalignError, match="strictly increasing"):
            list(source.iter_frames(i, [3, 3]))
    with pytest.raises(GtalignError, match="out of range"):
        list(source.iter_frames(1, [15]))


def test_scaled_size_scales_down_only_and_keeps_the_aspect():
    assert scaled_size(1080, 1920, 640) == (360, 640)
    assert scaled_size(1920, 1080, 640) == (640, 360)
    assert scaled_size(360, 640, 640) is None and scaled_size(100, 50, 640) is None
    assert scaled_size(1080, 1920, None) is None
    assert scaled_size(3, 1000, 10) == (2, 10)  # never below 2 pixels
    with pytest.raises(GtalignError, match="max_side must be at least 2 pixels, got 0"):
        scaled_size(1080, 1920, 0)


def test_frames_are_scaled_while_decoding_as_a_resize_after_would(tmp_path):
    """`max_side`: scaled in the decoder (video files) or after reading (frame folders, other readers), to the size
    `scaled_size` gives, close to PIL's bilinear resize of the full frame."""
    from PIL import Image

    rng = np.random.default_rng(0)
    base = np.kron(rng.integers(0, 256, (6, 2, 3, 3)), np.ones((1, 24, 32, 1))).astype(np.uint8)  # 48 x 96 blocks
    file = write_video(tmp_path / "a.mp4", base, fps=10, quality=2)
    folder = tmp_path / "frames"
    folder.mkdir()
    for j, image in enumerate(base):
        Image.fromarray(image).save(folder / f"{j:06d}.png")
    source = VideoSource(Manifest("two", [VideoEntry(id="file", path=file, num_frames=6),
                                          VideoEntry(id="folder", path=folder, num_frames=6)]))
    for i in range(2):
        full = source.read_frames(i)
        small = np.stack(list(source.iter_frames(i, max_side=40)))
        assert small.shape == (6, 20, 40, 3)
        reference = np.stack([scale_frame(f, 40) for f in full])
        assert np.abs(small.astype(int) - reference.astype(int)).mean() < 4
        assert np.array_equal(np.stack(list(source.iter_frames(i, [1, 4], max_side=500))), full[[1, 4]])
    assert np.stack(list(iter_video(file, max_side=24))).shape == (6, 12, 24, 3)


def write_vfr(path, times):
    """A variable-frame-rate video: frame j shown from times[j] (seconds), millisecond time base."""
    frames = ramp(len(times))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for t, image in zip(times, frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = int(round(t * 1000)), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_variable_frame_rate_counts_and_resamples_by_time(tmp_path):
    times = [0.0, 0.1, 0.15, 0.4, 0.45, 0.9, 1.0]
    path = tmp_path / "vfr.mp4"
    write_vfr(path, times)
    assert probe_video(path).num_frames == len(times)
    got = frame_ids(read_video_segment(path, 0.05, 0.95, fps=10))
    # independent: at each target time the frame on screen is the last one that started at or before it
    targets = 0.05 + np.arange(9) / 10
    expected = [max(j for j, t in enumerate(times) if t <= target + 1e-9) for target in targets]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(frame_ids(read_video_segment(path, 0.12, 0.5)), [2, 3, 4])


def test_resample_by_time_matches_loop():
    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 5, 40))
    frames = [np.full((1, 1, 3), j, np.uint8) for j in range(40)]
    out = resample_by_time(times, frames, 1.0, 3.0, fps=7.0)[:, 0, 0, 0]
    expected = []
    for k in range(14):
        t = 1.0 + k / 7.0
        before = [j for j in range(40) if times[j] <= t + 1e-6]
        expected.append(before[-1] if before else 0)
    np.testing.assert_array_equal(out, expected)


def test_resize_short_side_and_bad_input(tmp_path):
    small = resize_short_side(ramp(3, 40, 80), 20)
    assert small.shape == (3, 20, 40, 3)
    with pytest.raises(GtalignError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(GtalignError, match="cannot open"):
        (tmp_path / "bad.mp4").write_bytes(b"not a video at all" * 10)
        probe_video(tmp_path / "bad.mp4")


def test_h264_is_written_with_the_veryfast_preset(tmp_path):
    """x264 records its settings in the stream: veryfast searches one reference frame with subpel level 2
    (medium: 3 and 7)."""
    try:
        av.codec.Codec("libx264", "w")
    except Exception:
        pytest.skip("PyAV's ffmpeg has no libx264")
    frames = np.random.default_rng(0).integers(0, 255, (8, 32, 48, 3), dtype=np.uint8)
    data = write_video(tmp_path / "a.mp4", frames, 30.0, codec="libx264").read_bytes()
    assert b"x264" in data and b"subme=2" in data and b" ref=1 " in data


def quadrants(h: int = 32, w: int = 48) -> np.ndarray:
    """One frame (h, w, 3) of four flat colours, one per quadrant: which way up it is shows after lossy coding."""
    image = np.zeros((h, w, 3), np.uint8)
    image[: h // 2, : w // 2] = (250, 30, 30)
    image[: h // 2, w // 2:] = (30, 250, 30)
    image[h // 2:, : w // 2] = (30, 30, 250)
    image[h // 2:, w // 2:] = (240, 240, 240)
    return image


def write_tagged(path, upright: np.ndarray, degrees: int, n: int = 4):
    """`n` frames stored turned against `upright` and tagged with a display rotation of `degrees` (counter-clockwise),
    as a phone writes a portrait video: a player turns them back."""
    stored = np.ascontiguousarray(np.rot90(upright, -(degrees // 90)))
    return write_video(path, np.stack([stored] * n), fps=10, codec="libx264", display_rotation=degrees)


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_frames_tagged_with_a_rotation_come_out_upright(tmp_path, degrees):
    """A file stored sideways (or upside down) with a display rotation: every reader gives the frames as a player
    shows them, scaled or not, and the probe gives the upright size."""
    upright = quadrants()
    path = write_tagged(tmp_path / f"r{degrees}.mp4", upright, degrees)
    with av.open(str(path)) as container:
        first = next(container.decode(video=0))
        assert (first.height, first.width) != upright.shape[:2] or degrees == 180  # stored turned
        assert video_module.quarter_turns(first) == (degrees // 90) % 4
    info = probe_video(path)
    assert (info.num_frames, info.height, info.width) == (4, 32, 48)
    for frames in (read_video(path), read_video_segment(path, 0.0, 1.0),
                   np.stack(list(open_videos([path]).iter_frames(0)))):
        assert frames.shape == (4, 32, 48, 3)
        assert np.abs(frames.astype(int) - upright.astype(int)).mean() < 8
    small = np.stack(list(iter_video(path, max_side=24)))
    assert small.shape == (4, 16, 24, 3)
    assert np.abs(small.astype(int) - scale_frame(upright, 24).astype(int)).mean() < 12


def test_a_display_rotation_that_is_not_a_quarter_turn_is_refused(tmp_path):
    with pytest.raises(GtalignError, match="multiple of 90"):
        write_video(tmp_path / "r.mp4", np.stack([quadrants()] * 2), display_rotation=45)


def test_an_untagged_file_is_not_turned(tmp_path):
    path = write_video(tmp_path / "plain.mp4", np.stack([quadrants()] * 2), fps=10)
    with av.open(str(path)) as container:
        assert video_module.quarter_turns(next(container.decode(video=0))) == 0
    assert np.abs(read_video(path).astype(int) - quadrants().astype(int)).mean() < 8


def test_a_variable_frame_rate_is_measured_and_reported(tmp_path, caplog):
    """15 frames at 30 fps, then 10 at 10 fps (a phone in low light): the probe measures how far the frames stray
    from a constant rate, and opening the video logs what that means for the times gtalign writes."""
    times = [k / 30 for k in range(15)] + [0.5 + k / 10 for k in range(10)]
    path = tmp_path / "vfr.mp4"
    write_vfr(path, times)
    info = probe_video(path)
    assert info.num_frames == 25 and info.variable_rate
    expected = np.abs(np.array(times) - np.arange(25) / info.fps).max()
    assert info.drift_s == pytest.approx(expected, abs=2e-3)
    with caplog.at_level("WARNING", logger="gtalign.data"):
        open_videos([path])
    assert "variable frame rate" in caplog.text and "vfr.mp4" in caplog.text


def test_a_constant_frame_rate_is_not_reported(tmp_path, caplog):
    path = tmp_path / "cfr.mp4"
    write_vfr(path, [k / 30 for k in range(25)])
    info = probe_video(path)
    assert info.drift_s * info.fps < 0.5 and not info.variable_rate  # millisecond timestamps: rounding only
    with caplog.at_level("WARNING", logger="gtalign.data"):
        open_videos([path])
    assert "variable frame rate" not in caplog.text


def test_camera_formats_count_as_video_files_in_any_case(tmp_path):
    """A camcorder's AVCHD clip (.MTS, an MPEG transport stream) is found in a folder and decodes; other files are
    not taken for videos."""
    frames = np.random.default_rng(0).integers(0, 255, (30, 32, 48, 3), dtype=np.uint8)
    clip = write_video(tmp_path / "00001.MTS", frames, fps=25.0)
    assert is_video_file(clip) and probe_video(clip).num_frames == 30
    for name in ("a.M2TS", "b.mxf", "c.3gp", "d.MOV"):
        (tmp_path / name).write_bytes(b"")
        assert is_video_file(tmp_path / name)
    for name in ("notes.txt", "index.ts", "clip.mp4.json"):
        (tmp_path / name).write_bytes(b"")
        assert not is_video_file(tmp_path / name)
    assert not is_video_file(tmp_path)  # a folder is not a video file
