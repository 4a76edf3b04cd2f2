"""Runs in parallel worker processes give the same numbers as one after another."""
from __future__ import annotations

import dataclasses
import json

import pytest

from gtalign.apps.demo.pipeline import run_demo
from gtalign.apps.demo.settings import quick_settings

pytestmark = pytest.mark.slow


def _tiny():
    settings = quick_settings()
    settings.methods = [m for m in settings.methods if m.key in ("tcn", "scl")]
    settings.training.train.max_steps = 8
    # two classes of shorter videos: serial and parallel runs are compared on whatever data, so less to generate
    settings.dataset = dataclasses.replace(settings.dataset, num_classes=2, max_frames=30)
    settings.protocols = {"kendall": {"stride": 2}, "alignment": {}}
    return settings


def test_parallel_runs_give_the_same_numbers(tmp_path):
    serial = run_demo(_tiny(), tmp_path / "serial", progress=False, log=lambda s: None, jobs=1)
    parallel = run_demo(_tiny(), tmp_path / "parallel", progress=False, log=lambda s: None, jobs=2)
    assert [r["method"] for r in serial.results] == [r["method"] for r in parallel.results]
    # the workers filled the trunk-feature cache between them: one file per video, as one process fills it
    cached = {p.name.rsplit("-", 1)[0] for p in (tmp_path / "parallel" / "feature_cache").rglob("*.npy")}
    assert cached == {p.name.rsplit("-", 1)[0] for p in (tmp_path / "serial" / "feature_cache").rglob("*.npy")}
    assert len(cached) == len(json.loads(parallel.manifest.read_text())["videos"])
    for a, b in zip(serial.results, parallel.results):
        assert a["hash"] == b["hash"], a["method"]
        for name in a["protocols"]:  # the numbers, not the seconds they took
            same = json.dumps(a["protocols"][name]["numbers"], sort_keys=True)  # NaN (an undefined tau) equals itself
            assert same == json.dumps(b["protocols"][name]["numbers"], sort_keys=True), (a["method"], name)
