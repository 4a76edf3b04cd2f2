"""`gtalign align --drop`: Drop-DTW leaves out what matches nothing anywhere (a foreign stretch in the middle), and
says what it dropped."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gtalign.apps.align import stretches
from gtalign.apps.alignment import PathSettings, align_costs, drop_alignment
from gtalign.apps.sequences import sequence_alignment
from gtalign.cli import main
from gtalign.errors import GtalignError


def _trajectory(t: np.ndarray) -> np.ndarray:
    return np.stack([np.sin(2 * np.pi * t), np.cos(3 * np.pi * t), t], axis=1)


def _with_insert(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A: 80 frames of a process; B: the same process at another pace with 15 frames of something else (far from
    every frame of A) after its 30th frame. Returns A, B and the truth (B's frame for each frame of A)."""
    a = _trajectory(np.linspace(0, 1, 80))
    t_b = np.linspace(0, 1, 70) ** 1.2
    process = _trajectory(t_b) + rng.normal(0, 0.01, (70, 3))
    foreign = rng.normal(0, 0.3, (15, 3)) + [3.0, -3.0, 4.0]
    b = np.concatenate([process[:30], foreign, process[30:]])
    frame_of_process = np.r_[np.arange(30), np.arange(30, 70) + 15]
    truth = np.interp(np.linspace(0, 1, 80), t_b, frame_of_process)
    return a, b, truth


def test_a_foreign_stretch_in_the_middle_is_dropped():
    a, b, truth = _with_insert(np.random.default_rng(0))
    found = sequence_alignment(a, b, 30, 30, PathSettings(drop=True))
    dropped_a, dropped_b = found.dropped
    assert stretches(dropped_b) == [[30, 44]]
    assert len(dropped_a) <= 2
    assert np.abs(found.b_of_a - truth).mean() < 1.0
    assert found.matched.sum() >= 78 and np.all(np.diff(found.b_of_a) >= 0)
    # the slope-limited path must cross the insert: it cannot drop frames in the middle
    plain = sequence_alignment(a, b, 30, 30)
    assert plain.dropped is None


def test_dropped_frames_of_a_are_placed_between_their_neighbours():
    cost = np.ones((6, 4))
    for i, j in ((0, 0), (1, 1), (4, 2), (5, 3)):
        cost[i, j] = 0.0
    cost[2:4] = 9.0  # frames 2 and 3 of A match nothing
    found = drop_alignment(cost, drop=1.0)
    assert found.dropped[0].tolist() == [2, 3] and found.dropped[1].tolist() == []
    np.testing.assert_allclose(found.b_of_a, [0, 1, 4 / 3, 5 / 3, 2, 3])
    np.testing.assert_array_equal(found.matched, [1, 1, 0, 0, 1, 1])
    assert found.span == ((0, 5), (0, 3))


def test_everything_dropped_is_an_error():
    with pytest.raises(GtalignError, match="dropped every frame"):
        align_costs(np.full((4, 5), 10.0), 30, 30, PathSettings(drop=True))


def test_stretches():
    assert stretches(np.array([], dtype=np.int64)) == []
    assert stretches(np.array([2, 3, 4, 9, 11, 12])) == [[2, 4], [9, 9], [11, 12]]


def test_align_command_drop_on_arrays(tmp_path, capsys):
    a, b, _ = _with_insert(np.random.default_rng(1))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    assert main(["align", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--drop", "-o", str(tmp_path / "o")]) == 0
    assert "dropped (matched nothing)" in capsys.readouterr().out
    pair = json.loads((tmp_path / "o" / "summary.json").read_text())["pairs"][0]
    assert pair["dropped"]["b_stretches"] == [[30, 44]] and pair["dropped"]["b_frames"] == 15
    assert main(["align", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--drop", "--soft", "-o",
                 str(tmp_path / "p")]) != 0
