import json

import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate import load_embeddings
from tests._helpers.evaluate import separable_set, write_folder


def test_folder_round_trip(tmp_path, rng):
    data = separable_set(rng)
    data.videos[0].meta = {"canonical_time": [0.0, 1.0]}
    write_folder(tmp_path, data)
    loaded = load_embeddings(tmp_path)
    assert [v.id for v in loaded] == [v.id for v in data]
    assert loaded.dim == 8 and loaded.classes == ["a", "b"] and loaded.dataset == "synthetic"
    assert loaded.checkpoint == "runs/test/last.pt"
    for a, b in zip(loaded, data):
        np.testing.assert_array_equal(a.emb, b.emb)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert (a.split, a.class_name, a.meta) == (b.split, b.class_name, b.meta)
    assert len(loaded.split("train")) == 8 and len(loaded.split("val")) == 6
    assert [len(g) for g in loaded.by_class().values()] == [7, 7]
    assert load_embeddings(tmp_path / "index.json").dim == 8


def _corrupt(tmp_path, rng, change):
    write_folder(tmp_path, separable_set(rng))
    index = json.loads((tmp_path / "index.json").read_text())
    change(index)
    (tmp_path / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize("change, message", [
    (lambda ix: ix.update(format="other"), "not an embedding index"),
    (lambda ix: ix.update(dim=16), r"expected embeddings of shape \(num_frames, 16\)"),
    (lambda ix: ix["videos"][0].update(file="missing.npy"), "embedding file not found"),
    (lambda ix: ix["videos"][0].update(num_frames=3), "num_frames=3"),
    (lambda ix: ix["videos"][0].update(labels=[0, 1]), "labels has 2 values"),
    (lambda ix: ix.update(videos=[]), "lists no videos"),
])
def test_bad_folders_are_rejected(tmp_path, rng, change, message):
    _corrupt(tmp_path, rng, change)
    with pytest.raises(GtalignError, match=message):
        load_embeddings(tmp_path)


def test_missing_index_and_nan_embeddings(tmp_path, rng):
    with pytest.raises(GtalignError, match="not found"):
        load_embeddings(tmp_path)
    data = separable_set(rng)
    data.videos[2].emb[0, 0] = np.nan
    write_folder(tmp_path, data)
    with pytest.raises(GtalignError, match="NaN"):
        load_embeddings(tmp_path)


@pytest.mark.parametrize("damage, message", [
    (lambda f: f.write_bytes(f.read_bytes()[:100]), "not a readable float .npy array"),
    (lambda f: np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True), "not a readable float .npy"),
    (lambda f: np.save(f, np.array([["x", "y"]])), "embeddings must be numbers"),
])
def test_damaged_embedding_files_name_the_file(tmp_path, rng, damage, message):
    data = separable_set(rng)
    write_folder(tmp_path, data)
    index = json.loads((tmp_path / "index.json").read_text())
    target = tmp_path / index["videos"][1].get("file", f"{index['videos'][1]['id']}.npy")
    damage(target)
    with pytest.raises(GtalignError, match=message) as e:
        load_embeddings(tmp_path)
    assert target.name in str(e.value)
