"""`gtalign embed` / `embed_dataset`: shapes, equality with the model on whole videos, skip on rerun, the same
embeddings from a frozen trunk's cached features."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gtalign.cli import main
from gtalign.data import open_source
from gtalign.data.embeddings import file_name
from gtalign.data.sampling import context_indices, load_frames
from gtalign.errors import GtalignError
from gtalign.io import read_json
from gtalign.models import Embedder
from gtalign.train import embed as embed_module
from gtalign.train.embed import embed_dataset, embed_from_features, load_embedder
from gtalign.train.features import FeatureCache
from gtalign.train.trainer import Trainer

# Embeddings (L2-normalised) from cached trunk maps vs. from running the trunk: ~1e-7 apart when the cache holds
# the trunk's float32 maps, ~5e-6 when it held them rounded to float16.
ATOL = 5e-7


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


def test_quiet_embedding_of_a_video_folder_prints_nothing(checkpoint, synth_root, tmp_path, capsys):
    index = embed_dataset(checkpoint, synth_root / "videos", tmp_path, progress=False)  # the folder reader
    assert len(read_json(index)["videos"]) == 8
    assert capsys.readouterr().err == ""


def test_loose_video_folders_and_odd_ids(checkpoint, synth_root, tmp_path):
    folders = sorted((synth_root / "videos").iterdir())[:2]
    index = read_json(embed_dataset(checkpoint, folders, tmp_path, progress=False))
    assert [v["id"] for v in index["videos"]] == [f.name for f in folders]
    assert all(v["split"] == "test" and v["num_frames"] > 0 for v in index["videos"])
    assert file_name("a/b c") != file_name("a_b_c") and "/" not in file_name("a/b c")
    assert file_name("squat_0000") == "squat_0000.npy" and not file_name(".hidden").startswith(".")


def test_embedding_from_trunk_features_equals_the_network_on_frames():
    torch.manual_seed(0)
    model = Embedder("mobilenet_v2", None, "frozen", embedding_dim=16, conv_channels=8, fc_channels=8).eval()
    n, k, stride = 7, 2, 3
    frames = torch.randn(n, 3, 32, 32)
    with torch.no_grad():
        feats = model.trunk_features(frames).numpy()
        got = embed_from_features(model, feats, num_context=k, frame_stride=stride, chunk=3)
        # straightforward reference: each frame with the frames k*stride, ..., stride before it, clamped at 0
        clips = torch.stack([frames[[max(0, t - j * stride) for j in range(k, -1, -1)]] for t in range(n)])
        want = model(clips[None])[0].numpy()
    assert got.shape == (n, 16) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.fixture(scope="module")
def cached_checkpoint(synth_root, tmp_path_factory, tiny_config):
    """A frozen-trunk run that cached its trunk features in the default place, `feature_cache` next to the run.

    The trunk has ImageNet weights: a random MobileNetV2's conv4 maps are ~1e-6, too small for its embeddings
    to show how the maps were computed."""
    from gtalign.models.weights import weights_dir

    if not (weights_dir() / "mobilenet_v2-b0353104.pth").is_file():
        pytest.skip(f"ImageNet MobileNetV2 weights not in {weights_dir()} (make weights installs them)")
    base = tmp_path_factory.mktemp("cached")
    checkpoint = Trainer(tiny_config(synth_root, base / "run", "train.max_steps=1", "data.num_context=2",
                                     "model.weights=imagenet", "model.cache_features=true",
                                     "augment.enabled=false"), progress=False).fit()
    assert any((base / "feature_cache").rglob("*.npy"))
    return checkpoint


def _trunk_runs(monkeypatch) -> list[int]:
    """Count the frames the trunk runs on (of any Embedder) from now on."""
    frames, trunk_features = [], Embedder.trunk_features
    monkeypatch.setattr(Embedder, "trunk_features", lambda self, x: frames.append(len(x)) or trunk_features(self, x))
    return frames


def _embeddings(index) -> dict[str, np.ndarray]:
    return {v["id"]: np.load(index.parent / v["file"]) for v in read_json(index)["videos"]}


def test_cached_trunk_features_give_the_same_embeddings(cached_checkpoint, synth_root, tmp_path, monkeypatch):
    trunk = _trunk_runs(monkeypatch)
    computed = _embeddings(embed_dataset(cached_checkpoint, synth_root, tmp_path / "a", split="val", chunk=5,
                                         feature_cache=False, progress=False))
    assert sum(trunk) > 0
    trunk.clear()
    cached = _embeddings(embed_dataset(cached_checkpoint, synth_root, tmp_path / "b", split="val", chunk=5,
                                       progress=False))  # default: the run's own cache
    assert trunk == [] and computed.keys() == cached.keys() and len(cached) == 4
    for vid, emb in computed.items():
        assert cached[vid].dtype == np.float32 and cached[vid].shape == emb.shape
        np.testing.assert_allclose(cached[vid], emb, rtol=0, atol=ATOL)
    # the tolerance is tight enough to tell: maps rounded to float16 would not pass it
    model, config = load_embedder(cached_checkpoint)
    source = open_source(synth_root, split="val")
    maps = FeatureCache(cached_checkpoint.parent.parent / "feature_cache", source, model,
                        config.data.image_size).cached(0)
    rounded = embed_from_features(model, maps.astype(np.float16), config.data.num_context, config.data.frame_stride)
    assert np.abs(rounded - computed[source.entries[0].id]).max() > 4 * ATOL
    # the command line: an explicit cache folder, and --no-feature-cache
    folder = cached_checkpoint.parent.parent / "feature_cache"
    assert main(["embed", str(cached_checkpoint), "--data", str(synth_root), "--out", str(tmp_path / "c"),
                 "--split", "val", "--feature-cache", str(folder), "--quiet"]) == 0
    assert trunk == []
    for vid, emb in _embeddings(tmp_path / "c" / "index.json").items():
        np.testing.assert_allclose(emb, computed[vid], rtol=0, atol=ATOL)
    assert main(["embed", str(cached_checkpoint), "--data", str(synth_root), "--out", str(tmp_path / "d"),
                 "--split", "val", "--no-feature-cache", "--quiet"]) == 0
    assert sum(trunk) > 0


def test_videos_missing_from_the_cache_run_the_trunk(cached_checkpoint, synth_root, tmp_path, monkeypatch):
    model, config = load_embedder(cached_checkpoint)
    source = open_source(synth_root, split="val")
    cache = FeatureCache(cached_checkpoint.parent.parent / "feature_cache", source, model, config.data.image_size)
    moved = tmp_path / "moved.npy"
    cache.path(1).rename(moved)
    try:
        trunk = _trunk_runs(monkeypatch)
        index = embed_dataset(cached_checkpoint, source, tmp_path / "emb", chunk=5, progress=False)
        # video 1 only: each of its frames with its context frames
        assert sum(trunk) == source.entries[1].num_frames * (config.data.num_context + 1)
    finally:
        moved.rename(cache.path(1))
    reference = embed_dataset(cached_checkpoint, source, tmp_path / "ref", chunk=5, feature_cache=False,
                              progress=False)
    for vid, emb in _embeddings(index).items():
        np.testing.assert_allclose(emb, _embeddings(reference)[vid], rtol=0, atol=ATOL)


def test_feature_cache_errors_name_the_folder(cached_checkpoint, synth_root, tmp_path, tiny_config):
    missing = tmp_path / "no_such_cache"
    with pytest.raises(GtalignError, match="no_such_cache"):
        embed_dataset(cached_checkpoint, synth_root, tmp_path / "a", split="val", feature_cache=missing,
                      progress=False)
    trained_trunk = Trainer(tiny_config(synth_root, tmp_path / "run", "train.max_steps=1", "model.regime=train_all"),
                            progress=False).fit()
    with pytest.raises(GtalignError, match="frozen trunk.*train_all"):
        embed_dataset(trained_trunk, synth_root, tmp_path / "b", split="val", feature_cache=tmp_path,
                      progress=False)
    # by default a trained trunk never reads a cache, even one next to its run
    (tmp_path / "feature_cache").mkdir()
    embed_dataset(trained_trunk, synth_root, tmp_path / "c", split="val", progress=False)
    # a damaged cache file is named, not read as features
    model, config = load_embedder(cached_checkpoint)
    cache = FeatureCache(cached_checkpoint.parent.parent / "feature_cache", open_source(synth_root, split="val"),
                         model, config.data.image_size)
    good = cache.path(0).read_bytes()
    cache.path(0).write_bytes(b"not an npy file")
    try:
        with pytest.raises(GtalignError, match=cache.path(0).name):
            embed_dataset(cached_checkpoint, synth_root, tmp_path / "d", split="val", progress=False)
    finally:
        cache.path(0).write_bytes(good)


def test_video_ids_are_stems_made_distinct_by_suffix_then_by_folders(tmp_path):
    from gtalign.train.embed import video_ids

    for name in ("cam1/GX010001.MP4", "cam2/GX010001.MP4", "a/x/c.mp4", "b/x/c.mp4", "s/y.mp4", "s/y.mov",
                 "u.mp4", "frames/u"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        if "." in name:
            (tmp_path / name).write_bytes(b"")
        else:
            (tmp_path / name).mkdir()
    ids = video_ids([tmp_path / n for n in ("cam1/GX010001.MP4", "cam2/GX010001.MP4", "u.mp4")])
    assert ids == ["cam1-GX010001", "cam2-GX010001", "u"]  # two cameras of one make, one folder each
    assert video_ids([tmp_path / "a/x/c.mp4", tmp_path / "b/x/c.mp4"]) == ["a-x-c", "b-x-c"]
    assert video_ids([tmp_path / "s/y.mp4", tmp_path / "s/y.mov"]) == ["y.mp4", "y.mov"]
    assert video_ids([tmp_path / "u.mp4", tmp_path / "frames/u"]) == ["u.mp4", "u"]  # a file and a frame folder
    with pytest.raises(GtalignError, match="more than once"):
        video_ids([tmp_path / "u.mp4", tmp_path / "s/../u.mp4"])


def test_two_cameras_with_the_same_file_name_open_and_keep_apart(tmp_path):
    """What a user with two GoPros does: cam1/GX010001.MP4 and cam2/GX010001.MP4 open as two videos."""
    from gtalign.apps.inputs import open_videos
    from gtalign.data.video import write_video

    frames = np.random.default_rng(0).integers(0, 255, (40, 32, 48, 3), dtype=np.uint8)
    paths = [write_video(tmp_path / cam / "GX010001.MP4", frames, 10.0) for cam in ("cam1", "cam2")]
    source = open_videos(paths)
    assert [e.id for e in source.entries] == ["cam1-GX010001", "cam2-GX010001"]
    assert [e.num_frames for e in source.entries] == [40, 40]
    assert main(["sync", *map(str, paths), "-o", str(tmp_path / "out"), "--features", "imagenet",
                 "--reference", "cam2-GX010001", "--write-videos", "--quiet"]) == 0
    doc = read_json(tmp_path / "out" / "sync.json")
    assert doc["reference"] == "cam2-GX010001"
    assert [c["video"] for c in doc["cameras"]] == ["cam1-GX010001", "cam2-GX010001"]
