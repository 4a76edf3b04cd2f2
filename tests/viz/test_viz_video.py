"""The side-by-side video: B re-timed to A, one output frame per frame of A, at A's frame rate."""
import numpy as np
import pytest

from gtalign.data.video import probe_video, read_video
from gtalign.errors import GtalignError
from gtalign.viz.video import BAR_HEIGHT, browser_codec, side_by_side_frames, write_side_by_side


def solid_frames(values, size=(16, 24)):
    return np.stack([np.full((*size, 3), v, np.uint8) for v in values])


def test_side_by_side_picks_matched_b_frames():
    a = solid_frames(range(0, 50, 10))                       # 5 frames
    b = solid_frames(range(100, 240, 20), size=(32, 32))     # 7 frames, resized to A's height
    path = np.array([[0, 0], [0, 1], [1, 2], [2, 3], [2, 4], [2, 5], [3, 5], [4, 6]])
    out = side_by_side_frames(a, b, path)
    assert out.shape == (5, 16 + BAR_HEIGHT, 24 + 16, 3)
    expected_b = [0, 2, 4, 5, 6]  # nearest to the mean matched column (0.5 rounds to even: 0)
    for i, j in enumerate(expected_b):
        assert (out[i, :16, :24] == 10 * i).all()
        assert (out[i, :16, 24:] == 100 + 20 * j).all()
    # progress bar under A fills (i + 1) / N of its width
    lit = (out[:, 16 + BAR_HEIGHT // 2, :24] != 40).any(axis=-1).sum(axis=1)
    np.testing.assert_array_equal(lit, np.round((np.arange(5) + 1) / 5 * 24))


def test_write_side_by_side_has_a_frame_per_frame_of_a(tmp_path):
    a = solid_frames(np.linspace(0, 250, 12).astype(int))
    b = solid_frames(np.linspace(250, 0, 20).astype(int))
    path = np.stack([np.arange(12), np.round(np.linspace(0, 19, 12)).astype(int)], axis=1)
    out = write_side_by_side(a, b, path, tmp_path / "sbs.mp4", fps=12.5)
    assert out.suffix == browser_codec()[1]
    info = probe_video(out)
    assert info.num_frames == 12 and info.fps == pytest.approx(12.5)
    frames = read_video(out)
    assert abs(int(frames[5, 8, 12, 0]) - int(a[5, 0, 0, 0])) <= 6  # lossy codec: close to A's frame 5


def test_bad_path_is_rejected(tmp_path):
    with pytest.raises(GtalignError, match="path_pairs"):
        side_by_side_frames(solid_frames([0, 1]), solid_frames([0, 1]), np.array([[0, 0], [1, 5]]))
    with pytest.raises(GtalignError, match="fps"):
        write_side_by_side(solid_frames([0]), solid_frames([0]), np.array([[0, 0]]), tmp_path / "x.mp4", fps=0)
