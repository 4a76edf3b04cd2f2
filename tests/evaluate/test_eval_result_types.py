"""Every registered protocol returns its typed result, which survives a results file unchanged."""
import json
import math

import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate import PROTOCOLS, load_results, run_protocol, write_results
from gtalign.evaluate.classify import SvmResult
from gtalign.evaluate.protocol_result import ProtocolResult
from gtalign.evaluate.table import Column, Table
from tests._helpers.evaluate import separable_set


@pytest.fixture(scope="module")
def embeddings():
    videos = separable_set(np.random.default_rng(0))
    for v in videos:  # ground-truth times for the alignment protocol: every video runs evenly through [0, 1]
        v.meta["canonical_time"] = np.linspace(0, 1, v.num_frames).tolist()
    return videos


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_result_is_typed_and_round_trips_a_results_file(name, embeddings, tmp_path):
    protocol = PROTOCOLS[name]
    run = run_protocol(embeddings, name)
    assert isinstance(run.result, protocol.result) and run.result.protocol == name
    summary = run.result.summary()
    assert summary and all(v is None or math.isfinite(v) or math.isnan(v) for v in summary.values())
    path = write_results(tmp_path / "r.json", name, run.result, method="m", dataset="d", split="val")
    (record,) = load_results([path])
    assert record["numbers"] == json.loads(json.dumps(run.result.to_json()))
    again = protocol.result.from_json(record["numbers"])
    assert again.to_json() == record["numbers"]
    assert protocol.summary(record["numbers"]) == pytest.approx(summary, nan_ok=True)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_missing_headline_numbers_are_named(name):
    with pytest.raises(GtalignError, match=f"{name} results: .*missing"):
        PROTOCOLS[name].result.from_json({})
    with pytest.raises(GtalignError, match="JSON object"):
        PROTOCOLS[name].result.from_json([1, 2])  # type: ignore[arg-type]


def test_details_default_and_none_is_not_written():
    result = SvmResult.from_json({"accuracy": {"1.0": 0.5}, "unknown": 1})
    assert result.summary() == {"100%": 0.5} and result.per_event is None
    assert "per_event" not in result.to_json() and list(result.to_json())[-1] == "accuracy"
    assert isinstance(result, ProtocolResult)


def test_table_cells_bold_and_rendering():
    table = Table("t", [Column("acc"), Column("err", lower_is_better=True)], best_excluding=("ref",))
    table.row("a", "A <1>").values.update({"acc": [50.0, 70.0], "err": [3.0]})
    table.row("b", "B").values.update({"acc": [40.0], "err": [2.0]})
    table.row("ref", "Ref").values.update({"acc": [99.0], "err": [math.nan]})
    assert table.row("a") is table.rows[0] and table.column("acc") is table.columns[0]
    body = {label: (cells, bold) for label, cells, bold in table.body()}
    assert body["A <1>"] == ([f"60.00 ± {np.std([50.0, 70.0], ddof=1):.2f}", "3.00"], [True, False])
    assert body["B"] == (["40.00", "2.00"], [False, True])
    assert body["Ref"] == (["99.00", "-"], [False, False])  # a reference is never bold, NaN shows as "-"
    md = table.markdown("cap")
    assert md.splitlines()[:4] == ["cap", "", "| Method | acc | err |", "|---|---:|---:|"]
    assert "| B | 40.00 | **2.00** |" in md
    html = table.html("cap & co")
    assert "A &lt;1&gt;" in html and "cap &amp; co" in html and "<b>2.00</b>" in html
    table.best_excluding = None
    assert "**" not in table.markdown("")
