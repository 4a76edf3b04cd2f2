"""Transfer of per-frame arrays and audio through an alignment with a known warp."""
import numpy as np
import pytest

from gtalign.apps.alignment import align_embeddings
from gtalign.apps.audio import read_audio, retime_audio, write_video_with_audio
from gtalign.apps.transfer import audio_time_map, read_track, transfer_track, write_track
from gtalign.errors import GtalignError
from tests._helpers.apps import embed_u

U_A = np.linspace(0, 1, 40)
WARP = np.r_[0:8, 8, 8, 8, 9:20, 23:33, 33:40:2]  # B frame j shows A frame WARP[j]: a hold, a skip, a fast end
# (a skip right next to a hold would leave DTW a tie between two equally good paths)


def b_to_a(soft=False):
    return align_embeddings(embed_u(U_A[WARP]), embed_u(U_A), soft=soft, gamma=0.01)  # rows: B, columns: A


def test_track_transfer_equals_known_warp():
    track = np.random.default_rng(0).normal(size=(40, 17, 3))  # e.g. 17 keypoints in 3D per frame of A
    np.testing.assert_array_equal(transfer_track(track, b_to_a()), track[WARP])
    labels = np.arange(40) * 3
    np.testing.assert_array_equal(transfer_track(labels, b_to_a()), labels[WARP])
    # soft: integer arrays take the frame nearest to the expected position, which a skip pulls by up to one frame
    soft = transfer_track(labels, b_to_a(soft=True))
    assert soft.dtype == labels.dtype and np.abs(soft // 3 - WARP).max() <= 1 and np.mean(soft // 3 == WARP) > 0.9


def test_soft_transfer_interpolates_close_to_the_warp():
    track = np.linspace(0.0, 1.0, 40)[:, None]
    moved = transfer_track(track, b_to_a(soft=True))
    assert np.abs(moved[:, 0] - track[WARP, 0]).max() < 1.5 / 39


def test_track_files_round_trip(tmp_path):
    csv = tmp_path / "kp.csv"
    csv.write_text("x,y\n" + "\n".join(f"{i},{2 * i}" for i in range(40)) + "\n")
    track, header = read_track(csv)
    assert header == ["x", "y"] and track.shape == (40, 2)
    out = write_track(tmp_path / "out.csv", transfer_track(track, b_to_a()), header)
    back, header2 = read_track(out)
    assert header2 == ["x", "y"] and np.array_equal(back[:, 0], WARP)
    npy = write_track(tmp_path / "t.npy", np.arange(80.0).reshape(40, 2))
    assert read_track(npy)[0].shape == (40, 2)


def test_track_errors(tmp_path):
    with pytest.raises(GtalignError, match="one row per frame of the source video"):
        transfer_track(np.zeros(39), b_to_a())
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3\n")
    with pytest.raises(GtalignError, match="same number of columns"):
        read_track(bad)
    with pytest.raises(GtalignError, match=".npy or .csv"):
        read_track(tmp_path / "missing.txt")


def test_retime_audio_follows_the_time_map():
    rate = 1000
    ramp = np.arange(2000, dtype=np.float32)[None] / rate  # the sample value is its own time in A (2 s)
    out = retime_audio(ramp, rate, np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.5, 2.0]), duration=3.0)
    t = np.arange(3000) / rate
    expected = np.interp(t, [0, 1, 3], [0, 1.5, 2.0])
    assert out.shape == (1, 3000)
    assert np.abs(out[0, :2900] - expected[:2900]).max() < 1.5 / rate


def test_audio_transfer_through_a_video_file(tmp_path):
    """A's audio is a tone whose loudness rises linearly with A's time; on B it must follow B's warp."""
    fps_a, fps_b, rate = 20.0, 25.0, 16000
    n_a, n_b = 40, 60
    t = np.arange(int(n_a / fps_a * rate)) / rate
    tone = (0.8 * t / t[-1] * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
    frames = np.zeros((n_a, 32, 32, 3), np.uint8)
    video_a = write_video_with_audio(frames, fps_a, tone, rate, tmp_path / "a.mp4")
    samples, got_rate = read_audio(video_a)
    assert got_rate == rate and samples.shape[0] == 1 and abs(samples.shape[1] - tone.shape[1]) < 2048
    warp = np.clip(np.round(np.linspace(0, 1, n_b) ** 2 * (n_a - 1)), 0, n_a - 1).astype(int)  # B starts slowly
    al = align_embeddings(embed_u(np.linspace(0, 1, n_a)[warp]), embed_u(np.linspace(0, 1, n_a)))
    audio = retime_audio(samples, rate, *audio_time_map(al, fps_a, fps_b), duration=n_b / fps_b)
    video_b = write_video_with_audio(np.zeros((n_b, 32, 32, 3), np.uint8), fps_b, audio, rate, tmp_path / "b.mp4")
    on_b, _ = read_audio(video_b)
    assert abs(on_b.shape[1] - n_b / fps_b * rate) < 2048
    window = rate // 10
    times = np.arange(2, 22) * 0.1  # B's timeline (s), away from the ends
    rms = [np.sqrt(np.mean(on_b[0, int(s * rate) - window // 2:int(s * rate) + window // 2] ** 2)) for s in times]
    a_time = np.interp(times * fps_b, np.arange(n_b), warp) / fps_a
    expected = 0.8 * a_time / t[-1] / np.sqrt(2)
    assert np.corrcoef(rms, expected)[0, 1] > 0.98
    assert np.abs(np.array(rms) - expected).max() < 0.06


def test_read_audio_without_audio_stream(tmp_path):
    from gtalign.data.video import write_video

    silent = write_video(tmp_path / "s.mp4", np.zeros((3, 16, 16, 3), np.uint8))
    with pytest.raises(GtalignError, match="no audio stream"):
        read_audio(silent)
