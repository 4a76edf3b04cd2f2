"""`gtalign demo --quick` end to end (issue #8): the report and the table are produced, every method has a finite
row, GTA aligns the held-out pair better than the untrained network, and a second run reuses finished work.

One quick demo (about 2 minutes on 2 CPU cores) is shared by the tests of this module.
"""
from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

from gtalign import cli
from gtalign.apps.demo import table
from gtalign.apps.demo.settings import REFERENCES, UNTRAINED, quick_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "out"
    code = cli.main(["demo", "--quick", "-o", str(out), "--quiet"])
    assert code == 0
    return out, (out / "table.md").read_text(encoding="utf-8")


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_report_and_table_are_written(quick_demo, capsys):
    out, table_md = quick_demo
    settings = quick_settings()
    labels = [m.label for m in [*REFERENCES, *settings.methods]]
    rows = [line for line in table_md.splitlines() if line.startswith("| ") and not line.startswith("| Method")]
    assert [r.split(" | ")[0][2:] for r in rows] == labels
    assert "Synthetic data" in table_md and "seeds [0]" in table_md
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<table>" in page and "GTA (ours)" in page
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {"side_by_side.mp4", "viewer.html", "cam_sheet.png", "alignment_gta.png"} <= set(links)
    for link in links:  # self-contained: every picture and video is a file next to the page, nothing remote
        assert "://" not in link and (out / link).is_file(), link
    viewer = (out / "viewer.html").read_text(encoding="utf-8")
    assert "http://" not in viewer and "https://" not in viewer


def test_every_method_has_a_finite_row(quick_demo):
    out, _ = quick_demo
    results = _summary(out)["results"]
    cols = table.columns(results)
    for r in results:
        for c in cols:
            v = table.value(r, c)
            if c.header.endswith("tau") and math.isnan(v):
                continue  # tau of a constant prediction is undefined (a collapsed embedding), not an error
            assert math.isfinite(v), (r["method"], c.header)
        if r["method"] not in {m.key for m in REFERENCES}:
            assert r["steps"] == quick_settings().training.train.max_steps  # the same budget for all


def test_gta_aligns_the_held_out_pair_better_than_the_untrained_network(quick_demo):
    out, _ = quick_demo
    by_method = {r["method"]: r for r in _summary(out)["results"]}
    gta, untrained = by_method["gta"], by_method[UNTRAINED]
    assert gta["pair_ids"] == untrained["pair_ids"]
    # frame-to-frame matching by the embedding alone (the DTW path adds a strong monotonic prior to both)
    assert gta["pair"]["nn"]["mae_frames"] < untrained["pair"]["nn"]["mae_frames"]
    assert gta["protocols"]["kendall"]["numbers"]["tau"] > untrained["protocols"]["kendall"]["numbers"]["tau"]


def test_a_second_run_reuses_finished_work(quick_demo):
    out, table_md = quick_demo
    results = sorted((out / "results").glob("*.json"))
    gta = next(p for p in results if p.name.startswith("gta__"))
    before = {p: p.stat().st_mtime_ns for p in results if p != gta}
    checkpoint = json.loads(gta.read_text())["checkpoint"]
    ckpt_time = Path(checkpoint).stat().st_mtime_ns
    gta.unlink()  # as if the run had been interrupted after training GTA, before its evaluation
    tic = time.perf_counter()
    assert cli.main(["demo", "--quick", "-o", str(out), "--quiet"]) == 0
    assert time.perf_counter() - tic < 60  # nothing is trained again
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert Path(checkpoint).stat().st_mtime_ns == ckpt_time
    assert (out / "table.md").read_text(encoding="utf-8") == table_md  # same numbers from the same checkpoint
