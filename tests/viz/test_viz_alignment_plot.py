"""The alignment plot and the path -> mapping helper."""
import numpy as np
import pytest
from PIL import Image

from gtalign.errors import GtalignError
from gtalign.ops import path_to_mapping
from gtalign.viz.alignment import check_path, plot_alignment


def test_plot_alignment_writes_a_png(tmp_path):
    cost = np.random.default_rng(0).random((12, 20))
    path = np.array([(i, j) for i, j in zip(np.linspace(0, 11, 25).round(), np.linspace(0, 19, 25).round())], int)
    out = plot_alignment(cost, path, tmp_path / "a.png", span=((1, 10), (2, 18)))
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 200 and im.size[1] > 200
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_unsure_frames_are_drawn_in_orange_on_the_path(tmp_path):
    cost = np.zeros((40, 40))
    path = np.stack([np.arange(40)] * 2, axis=1)
    unsure = np.zeros(40, bool)
    unsure[10:20] = True

    def orange(png):
        px = np.asarray(Image.open(png).convert("RGB")).astype(int)
        return int(((px[..., 0] > 200) & (abs(px[..., 1] - 165) < 40) & (px[..., 2] < 60)).sum())

    plain = orange(plot_alignment(cost, path, tmp_path / "plain.png", unsure=np.zeros(40, bool)))
    marked = orange(plot_alignment(cost, path, tmp_path / "marked.png", unsure=unsure))
    assert marked > plain + 50
    with pytest.raises(GtalignError, match="one flag per frame"):
        plot_alignment(cost, path, tmp_path / "x.png", unsure=np.zeros(3, bool))


def test_plot_alignment_rejects_bad_input(tmp_path):
    with pytest.raises(GtalignError, match="path indices"):
        plot_alignment(np.zeros((3, 4)), np.array([[0, 0], [3, 3]]), tmp_path / "x.png")
    with pytest.raises(GtalignError, match="cost must be"):
        plot_alignment(np.zeros(5), np.array([[0, 0]]), tmp_path / "x.png")
    with pytest.raises(GtalignError, match="NaN"):
        plot_alignment(np.full((2, 2), np.nan), np.array([[0, 0], [1, 1]]), tmp_path / "x.png")


def test_path_to_mapping_is_mean_matched_column():
    rng = np.random.default_rng(1)
    for _ in range(20):
        # random monotone path from (0, 0) to (n-1, m-1)
        steps = [(0, 0)]
        n, m = rng.integers(2, 15, size=2)
        while steps[-1] != (n - 1, m - 1):
            i, j = steps[-1]
            moves = [(i + 1, j + 1), (i + 1, j), (i, j + 1)]
            moves = [(a, b) for a, b in moves if a < n and b < m]
            steps.append(moves[rng.integers(len(moves))])
        path = np.array(steps)
        expected = [np.mean([j for i, j in steps if i == row]) for row in range(n)]
        np.testing.assert_allclose(path_to_mapping(path, n), expected)


def test_path_to_mapping_needs_every_row():
    with pytest.raises(GtalignError, match="row 1 is missing"):
        path_to_mapping(np.array([[0, 0], [2, 1]]), 3)
    with pytest.raises(GtalignError, match="integer array"):
        check_path(np.array([[0.0, 1.0]]), 2, 2)
