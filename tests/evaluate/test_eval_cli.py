import json
import os

import pytest

from gtalign.cli import main
from gtalign.errors import GtalignError
from gtalign.evaluate import load_embeddings, run_protocols, runner
from gtalign.evaluate.runner import dataset_label, ensure_embeddings, method_name
from tests._helpers.evaluate import separable_set, write_folder


@pytest.fixture
def folder(tmp_path, rng):
    write_folder(tmp_path / "emb", separable_set(rng), dataset="data/synth/manifest.json")
    return tmp_path / "emb"


def test_evaluate_then_report(tmp_path, folder, capsys):
    out = tmp_path / "results"
    code = main(["evaluate", "--embeddings", str(folder), "--protocol", "kendall", "svm", "--fractions", "1.0",
                 "--stride", "2", "--out", str(out), "--name", "gta"])
    assert code == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["gta__synth__kendall.json", "gta__synth__svm.json"]
    svm = json.loads((out / "gta__synth__svm.json").read_text())
    assert svm["numbers"]["accuracy"] == {"1.0": 1.0} and svm["options"] == {"fractions": [1.0]}
    kendall = json.loads((out / "gta__synth__kendall.json").read_text())
    assert kendall["options"] == {"stride": 2} and kendall["checkpoint"] == "runs/test/last.pt"
    capsys.readouterr()
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert "| gta | 100.00 |" in printed
    assert (tmp_path / "report" / "svm.png").is_file() and (tmp_path / "report" / "kendall.png").is_file()


def test_option_no_protocol_takes_is_an_error(tmp_path, folder, capsys):
    code = main(["evaluate", "--embeddings", str(folder), "--protocol", "kendall", "--per-event",
                 "--out", str(tmp_path / "r")])
    assert code == 2
    assert "per_event" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_run_protocols_python_api_matches_single_calls(folder):
    emb = load_embeddings(folder)
    runs = run_protocols(emb, ["progression", "retrieval"], ks=(5,))
    assert set(runs) == {"progression", "retrieval"}
    assert runs["retrieval"].options == {"ks": (5,)} and runs["progression"].options == {}
    assert runs["retrieval"].result.ap == {"5": 1.0}
    assert runs["retrieval"].to_json()["numbers"]["ap"] == {"5": 1.0}
    with pytest.raises(GtalignError, match="protocol must be one of"):
        run_protocols(emb, ["svn"])
    with pytest.raises(GtalignError, match="split 'test'"):
        run_protocols(emb, ["kendall"], split="test")


def test_names_from_checkpoint_and_dataset(tmp_path):
    assert method_name("runs/gta_pennaction/last.pt", tmp_path) == "gta_pennaction"
    assert method_name("/abs/runs/tcc", tmp_path) == "tcc"  # a run folder
    assert method_name("", tmp_path / "emb") == "emb"
    assert dataset_label("data/finegym101/manifest.json") == "finegym101"
    assert dataset_label("/data/PennAction/") == "PennAction"
    assert dataset_label("") == "dataset"


def test_checkpoint_is_embedded_once_then_reused(tmp_path, rng, monkeypatch, capsys):
    checkpoint = tmp_path / "runs" / "gta" / "last.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"weights")
    calls = []

    def embed_dataset(ckpt, source, out_dir, split=None, chunk=64):  # stands in for `gtalign embed`
        calls.append((str(ckpt), str(source), str(out_dir)))
        return write_folder(out_dir, separable_set(rng), dataset=str(source), checkpoint=str(ckpt))

    monkeypatch.setattr(runner, "embed_dataset", embed_dataset)
    args = ["evaluate", "--checkpoint", str(checkpoint), "--dataset", "data/synth", "--protocol", "progression",
            "--out", str(tmp_path / "results")]
    assert main(args) == 0 and main(args) == 0
    expected_dir = checkpoint.parent / "embeddings" / "synth"
    assert calls == [(str(checkpoint), "data/synth", str(expected_dir))]
    assert (tmp_path / "results" / "gta__synth__progression.json").is_file()
    # A newer checkpoint invalidates the embeddings.
    os.utime(expected_dir / "index.json", (checkpoint.stat().st_mtime - 10,) * 2)
    ensure_embeddings(checkpoint, "data/synth")
    assert len(calls) == 2
    # Embeddings of another checkpoint in the folder asked for are not silently reused.
    write_folder(tmp_path / "other", separable_set(rng), checkpoint="runs/other/last.pt")
    with pytest.raises(GtalignError, match="another --embed-dir"):
        ensure_embeddings(checkpoint, "data/synth", tmp_path / "other")
    # The run folder names the same checkpoint (its last.pt).
    assert ensure_embeddings(checkpoint.parent, "data/synth") == expected_dir
    assert len(calls) == 2
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--protocol", "kendall"]) == 2
    assert "--dataset" in capsys.readouterr().err
    with pytest.raises(GtalignError, match="checkpoint not found"):
        ensure_embeddings(tmp_path / "nothing.pt", "data/synth")
    assert len(calls) == 2
