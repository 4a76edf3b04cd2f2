"""`gtalign embed` / `embed_dataset`: shapes, equality with the model on whole videos, skip on rerun."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gtalign.cli import main
from gtalign.data import open_source
from gtalign.data.sampling import context_indices, load_frames
from gtalign.io import read_json
from gtalign.train import embed as embed_module
from gtalign.train.embed import embed_dataset, file_name, load_embedder
from gtalign.train.trainer import Trainer


@pytest.fixture(scope="module")
def checkpoint(synth_root, tmp_path_factory, tiny_config):
    run = tmp_path_factory.mktemp("run")
    return Trainer(tiny_config(synth_root, run, "train.max_steps=1", "data.num_context=2"), progress=False).fit()


def test_embed_command_writes_one_file_per_video_and_skips_on_rerun(checkpoint, synth_root, tmp_path, monkeypatch,
                                                                     capsys):
    out = tmp_path / "emb"
    assert main(["embed", str(checkpoint), "--data", str(synth_root), "--out", str(out), "--split", "val",
                 "--chunk", "5", "--quiet"]) == 0
    assert str(out / "index.json") in capsys.readouterr().out
    index = read_json(out / "index.json")
    source = open_source(synth_root, split="val")
    assert index["format"] == "gtalign-embeddings" and index["dim"] == 16 and len(index["videos"]) == 4
    for item, entry in zip(index["videos"], source.entries):
        emb = np.load(out / item["file"])
        assert emb.dtype == np.float32 and emb.shape == (entry.num_frames, 16) == (item["num_frames"], 16)
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
        assert item["labels"] == entry.labels.tolist() and item["split"] == "val" and item["class"]
    calls = []
    monkeypatch.setattr(embed_module, "embed_video", lambda *a, **k: calls.append(a) or None)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.npy")}
    embed_dataset(checkpoint, synth_root, out, split="val", progress=False)
    assert calls == [] and {p.name: p.stat().st_mtime_ns for p in out.glob("*.npy")} == mtimes
    (out / index["videos"][0]["file"]).unlink()  # an interrupted run: the missing video is embedded again
    monkeypatch.undo()
    embed_dataset(checkpoint, synth_root, out, split="val", progress=False)
    assert (out / index["videos"][0]["file"]).is_file()


def test_embeddings_equal_the_model_on_each_frame_with_its_context(checkpoint, synth_root, tmp_path):
    index = embed_dataset(checkpoint, synth_root, tmp_path, split="train", chunk=7, progress=False)
    model, config = load_embedder(checkpoint)
    source = open_source(synth_root, split="train")
    n = source.entries[1].num_frames
    idx = context_indices(np.arange(n), n, config.data.num_context, config.data.frame_stride)
    frames = load_frames(source, 1, idx, config.data.image_size, "imagenet")
    with torch.no_grad():
        expected = model(frames[None])[0].numpy()
    got = np.load(index.parent / read_json(index)["videos"][1]["file"])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_another_checkpoint_replaces_the_embeddings(checkpoint, synth_root, tmp_path, tiny_config):
    out = tmp_path / "emb"
    embed_dataset(checkpoint, synth_root, out, split="val", progress=False)
    first = np.load(out / "squat_0002.npy")
    other = Trainer(tiny_config(synth_root, tmp_path / "run2", "train.max_steps=1", "data.num_context=2",
                                "train.seed=5"), progress=False).fit()
    embed_dataset(other, synth_root, out, split="val", progress=False)
    assert not np.allclose(np.load(out / "squat_0002.npy"), first)


def test_loose_video_folders_and_odd_ids(checkpoint, synth_root, tmp_path):
    folders = sorted((synth_root / "videos").iterdir())[:2]
    index = read_json(embed_dataset(checkpoint, folders, tmp_path, progress=False))
    assert [v["id"] for v in index["videos"]] == [f.name for f in folders]
    assert all(v["split"] == "test" and v["num_frames"] > 0 for v in index["videos"])
    assert file_name("a/b c") != file_name("a_b_c") and "/" not in file_name("a/b c")
    assert file_name("squat_0000") == "squat_0000.npy" and not file_name(".hidden").startswith(".")
