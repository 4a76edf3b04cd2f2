import json

import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate import build_tables, load_results, render_report, write_results
from gtalign.evaluate.report import heading
from gtalign.evaluate.results import config_hash, results_filename


def _write(folder, method, dataset, protocol, numbers, **kw):
    return write_results(folder / results_filename(method, dataset, protocol), protocol, numbers, method=method,
                         dataset=dataset, split="val", **kw)


def test_results_file_holds_provenance(tmp_path):
    path = _write(tmp_path, "gta", "PennAction", "kendall", {"tau": 0.78}, checkpoint="runs/gta/last.pt",
                  options={"stride": 5}, seconds=1.5)
    record = json.loads(path.read_text())
    assert path.name == "gta__PennAction__kendall.json"
    assert record["numbers"] == {"tau": 0.78} and record["options"] == {"stride": 5}
    assert record["checkpoint"] == "runs/gta/last.pt" and record["seconds"] == 1.5 and record["split"] == "val"
    assert record["config_hash"] == config_hash({"split": "val", "dataset": "PennAction", "checkpoint":
                                                 "runs/gta/last.pt", "options": {"stride": 5}, "protocol": "kendall"})
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1}) != config_hash({"a": 1, "b": 3})


def test_tables_have_methods_as_rows_and_datasets_as_columns(tmp_path):
    svm = lambda acc: {"fractions": [1.0], "accuracy": {"1.0": acc}}  # noqa: E731
    _write(tmp_path, "tcc", "FineGym101", "svm", svm(0.4178))
    _write(tmp_path, "gta", "FineGym101", "svm", svm(0.4579))
    _write(tmp_path, "gta", "FineGym290", "svm", svm(0.4349))
    _write(tmp_path, "gta", "PennAction", "kendall", {"tau": 0.7829})
    tables = build_tables(load_results([tmp_path]))
    assert [t.name for t in tables] == ["svm", "kendall"]  # registry order
    svm_table = tables[0]
    assert [r.key for r in svm_table.rows] == ["gta", "tcc"]
    assert [c.header for c in svm_table.columns] == ["FineGym101 100%", "FineGym290 100%"]
    assert svm_table.rows[0].mean(svm_table.columns[0]) == pytest.approx(45.79)
    text = svm_table.markdown(heading(svm_table))
    assert text.startswith("### Fine-grained action recognition (linear SVM) (svm; per-frame accuracy, %)\n")
    assert "| tcc | 41.78 | - |" in text and "| gta | 45.79 | 43.49 |" in text
    assert "**" not in text  # no bold in a report: its rows are not ranked
    assert "| gta | 78.29 |" in tables[1].markdown("")


def test_per_event_svm_columns_are_events(tmp_path):
    numbers = {"fractions": [1.0], "per_event_svm": True, "accuracy": {"1.0": 0.5},
               "per_event": {"VT": {"1.0": 0.7}, "FX": {"1.0": 0.3}}}
    _write(tmp_path, "gta", "FineGym101", "svm", numbers)
    (table,) = build_tables(load_results([tmp_path]))
    assert [c.header for c in table.columns] == ["FineGym101 VT", "FineGym101 FX", "FineGym101 mean"]


def test_render_report_writes_markdown_and_png(tmp_path):
    _write(tmp_path / "r", "gta", "synth", "alignment", {"nn": {"mae_frames": 3.0, "tau": 0.9},
                                                         "dtw": {"mae_frames": 1.0, "tau": 0.99}})
    _write(tmp_path / "r", "gta", "synth", "fewshot", {"shots": {"1": {"mean": 0.5, "ci95": 0.1}}})
    report = render_report(load_results([tmp_path / "r"]), tmp_path / "out")
    text = report.read_text()
    assert "| gta | 50.00 |" in text and "| gta | 3.00 | 0.90 | 1.00 | 0.99 |" in text
    assert "| Method | synth NN error | synth NN tau | synth DTW error | synth DTW tau |" in text
    assert text.index("Few-shot") < text.index("Alignment")  # registry order, not file order
    for name in ("fewshot.png", "alignment.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_load_results_rejects_other_files(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(GtalignError, match="not a gtalign results file"):
        load_results([tmp_path / "x.json"])
    with pytest.raises(GtalignError, match="results file not found"):
        load_results([tmp_path / "missing.json"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GtalignError, match="no results files"):
        load_results([tmp_path / "empty"])
