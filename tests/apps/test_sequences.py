"""`gtalign align A.npy B.npy`: per-frame arrays (keypoints, IMU, ...) aligned like videos, against a known warp."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gtalign.apps.sequences import sequence_alignment
from gtalign.cli import main
from gtalign.errors import GtalignError


def _signal(t: np.ndarray) -> np.ndarray:
    """A 3-value trajectory whose values have different units (scales 1, 100, 0.01) and never repeat a state."""
    return np.stack([np.sin(2 * np.pi * t), 100 * np.cos(3 * np.pi * t), 0.01 * t ** 2], axis=1)


def _warped(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_a = np.linspace(0, 1, 120)
    warp = np.cumsum(rng.uniform(0.4, 1.8, 90))
    t_b = 0.1 + 0.8 * (warp - warp[0]) / (warp[-1] - warp[0])  # B covers 0.1-0.9 of A's process, re-timed
    a, b = _signal(t_a), _signal(t_b) + rng.normal(0, 0.01, (90, 3)) * [1, 100, 0.01]
    truth_b_of_a = np.interp(t_a, t_b, np.arange(90))
    covered = (t_a >= t_b[0]) & (t_a <= t_b[-1])
    return a, b, truth_b_of_a, covered


def test_a_known_warp_is_recovered_from_numpy_and_torch_alike():
    a, b, truth, covered = _warped(np.random.default_rng(0))
    found = sequence_alignment(a, b, 30, 30)
    err = np.abs(found.b_of_a - truth)[covered]
    assert err.mean() < 1.0 and np.all(np.diff(found.b_of_a) >= -1e-9)
    again = sequence_alignment(torch.from_numpy(a), torch.from_numpy(b).float(), 30, 30)
    np.testing.assert_allclose(again.b_of_a, found.b_of_a, atol=0.05)


def test_align_command_on_npy_and_csv(tmp_path, capsys):
    a, b, truth, covered = _warped(np.random.default_rng(1))
    np.save(tmp_path / "a.npy", a.reshape(120, 3, 1))  # any trailing shape, frames first
    (tmp_path / "b.csv").write_text("x,y,z\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in b) + "\n")
    assert main(["align", str(tmp_path / "a.npy"), str(tmp_path / "b.csv"), "--fps", "60", "-o",
                 str(tmp_path / "out")]) == 0
    assert "b -> a" in capsys.readouterr().out
    rows = (tmp_path / "out" / "correspondence.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 121 and "position_b" in header
    position = np.array([float(r.split(",")[header.index("position_b")]) for r in rows[1:]])
    assert np.abs(position - truth)[covered].mean() < 1.0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["pairs"][0]["fps"] == [60.0, 60.0] and (tmp_path / "out" / "alignment.png").is_file()


def test_bad_sequences_are_named(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.zeros((10, 3)))
    np.save(tmp_path / "short.npy", np.zeros((1, 3)))
    np.save(tmp_path / "two.npy", np.zeros((10, 2)))
    bad = np.zeros((10, 3))
    bad[4, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    for other, message in (("short.npy", "short.npy: expected a numeric array with at least 2 frames"),
                           ("two.npy", "two.npy has 2 values a frame but"),
                           ("nan.npy", "nan.npy contains 1 NaN/Inf")):
        assert main(["align", str(tmp_path / "a.npy"), str(tmp_path / other), "-o", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
    assert main(["align", str(tmp_path / "a.npy"), str(tmp_path / "v.mp4"), "-o", str(tmp_path / "o")]) == 2
    assert "not both" in capsys.readouterr().err
    with pytest.raises(GtalignError, match="same D"):
        sequence_alignment(np.zeros((5, 2)), np.zeros((5, 3)), 30, 30)
    assert not (tmp_path / "o").exists()
