"""`gtalign sync a.npy b.npy c.csv --fps F`: clocks of per-frame arrays (sensors that share no clock) against known
offsets and rates."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gtalign.apps.sync_sequences import sync_sequence_files
from gtalign.cli import main
from gtalign.errors import GtalignError

FPS = 50.0


def _event(t: np.ndarray, rng_seed: int = 0) -> np.ndarray:
    """A 4-value recording of one event at times t (s): smooth, never repeating a state, values in other units."""
    rng = np.random.default_rng(rng_seed)
    freqs, phases = rng.uniform(0.3, 1.7, (4, 3)), rng.uniform(0, 2 * np.pi, (4, 3))
    waves = np.sin(2 * np.pi * freqs[None] * t[:, None, None] + phases[None]).sum(-1)
    return waves * [1.0, 50.0, 0.02, 3.0] + 0.05 * t[:, None]


def _sensors(rng) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
    """Three 9-s recordings of one event by sensors that share no clock, with noise: sensor k's own time tau shows
    the first sensor's time t at ``tau = offset + rate * t`` (the first sensor's time 0 is event time 1.5)."""
    truths = [(0.0, 1.0), (0.9, 1.0), (-1.3, 1.002)]  # (offset_s, rate) of each sensor against the first
    sensors = []
    for offset, rate in truths:
        own = np.arange(int(9 * FPS)) / FPS      # the sensor's own times
        event = (own - offset) / rate + 1.5       # the event's time at each of its frames
        sensors.append(_event(event) + rng.normal(0, 0.02, (len(own), 4)) * [1.0, 50.0, 0.02, 3.0])
    return sensors, truths


def test_known_offsets_and_rates_are_recovered(tmp_path):
    sensors, truths = _sensors(np.random.default_rng(0))
    paths = []
    for k, x in enumerate(sensors):
        paths.append(tmp_path / f"s{k}.npy")
        np.save(paths[-1], x)
    doc = sync_sequence_files(paths, FPS, tmp_path / "out")
    assert doc["features"].startswith("per-frame arrays")
    for cam, (offset, rate) in zip(doc["cameras"], truths):
        assert cam["status"] == "ok", cam
        assert abs(cam["offset_s"] - offset) * FPS < 0.5, (cam, offset)
        assert abs(cam["rate"] - rate) < 5e-4
    assert all(p["streams"] == ["values"] for p in doc["pairs"])
    for name in ("sync.json", "sync.csv", "residuals.png"):
        assert (tmp_path / "out" / name).is_file()


def test_sync_command_on_npy_and_csv_with_a_reference(tmp_path, capsys):
    sensors, truths = _sensors(np.random.default_rng(1))
    np.save(tmp_path / "a.npy", sensors[0])
    np.save(tmp_path / "b.npy", sensors[1][:, :, None])  # any trailing shape, frames first
    (tmp_path / "c.csv").write_text("p,q,r,s\n" + "\n".join(",".join(repr(float(v)) for v in row)
                                                           for row in sensors[2]) + "\n")
    args = ["sync", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), str(tmp_path / "c.csv"), "--fps", str(FPS),
            "--reference", "b.npy", "-o", str(tmp_path / "out")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "reference: b.npy" in out
    doc = json.loads((tmp_path / "out" / "sync.json").read_text())
    a = next(c for c in doc["cameras"] if c["video"] == "a.npy")
    assert abs(a["offset_s"] - (-truths[1][0])) * FPS < 1.0  # a against b: b's offset the other way


@pytest.mark.parametrize("extra, message", [
    (["--write-videos"], "apply to videos"),
    (["--features", "imagenet"], "apply to videos"),
    (["--reference", "nope.npy"], "not one of the sequences"),
])
def test_bad_sequence_sync_is_named(tmp_path, capsys, extra, message):
    np.save(tmp_path / "a.npy", np.random.default_rng(0).normal(size=(40, 3)))
    np.save(tmp_path / "b.npy", np.random.default_rng(1).normal(size=(40, 3)))
    assert main(["sync", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "-o", str(tmp_path / "o"), *extra]) != 0
    assert message in capsys.readouterr().err


def test_mixed_inputs_and_shapes_are_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((20, 3)))
    np.save(tmp_path / "b.npy", np.zeros((20, 2)))
    with pytest.raises(GtalignError, match="values a frame"):
        sync_sequence_files([tmp_path / "a.npy", tmp_path / "b.npy"], 30.0, tmp_path / "o")
    with pytest.raises(GtalignError, match="two or more"):
        sync_sequence_files([tmp_path / "a.npy"], 30.0, tmp_path / "o")
