"""The commands end to end on synthetic action videos with a real (tiny, barely trained) checkpoint, and their
errors. These are smoke tests of the whole path through a checkpoint; alignment accuracy is tested elsewhere."""
import csv
import json

import numpy as np
import pytest
import torch

from gtalign.cli import main
from gtalign.data import open_source


@pytest.fixture(scope="module")
def synth(synth_manifest):
    return open_source(synth_manifest)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_align_with_checkpoint(tmp_path, capsys, synth, tiny_checkpoint):
    a, b = synth.entries[0], synth.entries[1]
    code, out, _ = run(capsys, "align", a.path, b.path, "--checkpoint", tiny_checkpoint, "-o", tmp_path, "--quiet")
    assert code == 0 and "matched span" in out
    with open(tmp_path / "correspondence.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == a.num_frames and all(0 <= int(r[2]) < b.num_frames for r in rows)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["encoder"].startswith("checkpoint") and len(summary["pairs"]) == 1
    for name in ("alignment.png", "side_by_side.mp4", "viewer.html"):
        assert (tmp_path / name).is_file()


def test_align_drop_with_checkpoint_writes_every_output_and_what_was_dropped(tmp_path, capsys, synth, tiny_checkpoint):
    a, b = synth.entries[0], synth.entries[1]
    code, out, _ = run(capsys, "align", a.path, b.path, "--checkpoint", tiny_checkpoint, "--drop", "-o", tmp_path,
                       "--quiet")
    assert code == 0 and "dropped (matched nothing)" in out
    pair = json.loads((tmp_path / "summary.json").read_text())["pairs"][0]
    dropped = pair["dropped"]
    assert dropped["a_frames"] == sum(last - first + 1 for first, last in dropped["a_stretches"])
    assert dropped["b_frames"] == sum(last - first + 1 for first, last in dropped["b_stretches"])
    with open(tmp_path / "correspondence.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == a.num_frames and sum(float(r["matched"]) == 0 for r in rows) == dropped["a_frames"]
    for name in ("alignment.png", "side_by_side.mp4", "viewer.html"):
        assert (tmp_path / name).is_file()


def test_cam_maps_have_frame_size_and_unit_range(tmp_path, capsys, synth, tiny_checkpoint):
    entry = synth.entries[2]
    code, out, _ = run(capsys, "cam", entry.path, "--checkpoint", tiny_checkpoint, "-o", tmp_path, "--frames", 4)
    assert code == 0
    maps = np.load(tmp_path / "cam_maps.npy").astype(np.float32)
    assert maps.shape == (entry.num_frames, 64, 64)  # the synthetic frames are 64 x 64
    assert maps.min() >= 0.0 and maps.max() <= 1.0 and np.isclose(maps.max(), 1.0, atol=1e-3)
    assert (tmp_path / "cam_sheet.png").is_file() and (tmp_path / "cam.mp4").is_file()


def test_retrieve_builds_the_index_once(tmp_path, capsys, synth, synth_manifest, tiny_checkpoint):
    query = f"{synth.entries[0].path}:5"
    args = ("retrieve", "--query", query, "--corpus", synth_manifest, "--checkpoint", tiny_checkpoint, "-k", 4,
            "--index", tmp_path / "index", "-o", tmp_path, "--quiet")
    assert run(capsys, *args)[0] == 0
    result = json.loads((tmp_path / "retrieval.json").read_text())
    assert len(result["hits"]) == 4 and all(h["video"] != synth.entries[0].id for h in result["hits"])
    assert [h["distance"] for h in result["hits"]] == sorted(h["distance"] for h in result["hits"])
    files = {p: p.stat().st_mtime_ns for p in (tmp_path / "index").glob("*.npy")}
    assert len(files) == len(synth)
    assert run(capsys, *args)[0] == 0  # reuses the saved index: no embedding file rewritten
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "index").glob("*.npy")} == files
    assert (tmp_path / "retrieval.png").is_file()


def test_progress_and_transfer_commands(tmp_path, capsys, synth, tiny_checkpoint):
    a, b = synth.entries[0], synth.entries[1]
    code, out, _ = run(capsys, "progress", a.path, "--reference", b.path, "--checkpoint", tiny_checkpoint,
                       "-o", tmp_path, "--quiet")
    assert code == 0
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    assert len(rows) == a.num_frames + 1
    values = np.array([float(r.split(",")[2]) for r in rows[1:]])
    assert values.min() >= 0 and values.max() <= 1 and np.all(np.diff(values) >= 0)
    track = np.arange(b.num_frames * 2, dtype=np.float64).reshape(b.num_frames, 2)
    np.save(tmp_path / "kp.npy", track)
    code, _, _ = run(capsys, "transfer", "--from", b.path, "--to", a.path, "--track", tmp_path / "kp.npy",
                     "--checkpoint", tiny_checkpoint, "-o", tmp_path / "kp_on_a.npy", "--quiet")
    moved = np.load(tmp_path / "kp_on_a.npy")
    assert code == 0 and moved.shape == (a.num_frames, 2)
    assert set(moved[:, 0] // 2) <= set(range(b.num_frames)) and np.all(np.diff(moved[:, 0]) >= 0)


def test_bad_input_gives_clear_errors(tmp_path, capsys, synth, tiny_checkpoint):
    a = synth.entries[0].path
    code, _, err = run(capsys, "align", a, "-o", tmp_path)
    assert code == 2 and "at least 2 video" in err
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video")
    code, _, err = run(capsys, "align", a, broken, "-o", tmp_path)
    assert code == 2 and "broken.mp4" in err
    code, _, err = run(capsys, "align", a, tmp_path / "missing.mp4", "-o", tmp_path)
    assert code == 2 and "does not exist" in err
    not_ckpt = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(2)}, not_ckpt)
    code, _, err = run(capsys, "cam", a, "--checkpoint", not_ckpt, "-o", tmp_path)
    assert code == 2 and "not a gtalign checkpoint" in err
    # a checkpoint whose weights do not fit the network its config describes
    state = torch.load(tiny_checkpoint, weights_only=True)
    state["config"]["model"]["embedding_dim"] = 32
    mismatched = tmp_path / "mismatched.pt"
    torch.save(state, mismatched)
    code, _, err = run(capsys, "cam", a, "--checkpoint", mismatched, "-o", tmp_path)
    assert code == 2 and "does not match" in err
    code, _, err = run(capsys, "retrieve", "--query", f"{a}:9999", "--corpus", a, "--checkpoint", tiny_checkpoint)
    assert code == 2 and "outside" in err


def test_index_of_another_network_is_refused(tmp_path, capsys, synth, synth_manifest, tiny_checkpoint):
    from gtalign.apps.retrieve import build_index
    from tests._helpers.apps import PixelEncoder

    build_index(PixelEncoder(), synth, tmp_path / "index", progress=False)
    code, _, err = run(capsys, "retrieve", "--query", f"{synth.entries[0].path}:0", "--corpus", synth_manifest,
                       "--checkpoint", tiny_checkpoint, "--index", tmp_path / "index", "-o", tmp_path)
    assert code == 2 and "built with another network" in err


def test_align_fit_trains_on_the_videos_and_with_dirs(tmp_path, capsys, synth, synth_manifest):
    from tests._helpers.apps import needs_weights

    needs_weights()
    a, b = synth.entries[0], synth.entries[1]
    code, out, _ = run(capsys, "align", a.path, b.path, "--fit", "--fit-steps", 2, "--fit-image-size", 64,
                       "--with", synth_manifest.parent, "-o", tmp_path, "--quiet", "--device", "cpu")
    assert code == 0 and "fitted embedder" in out
    checkpoint = tmp_path / "fit" / "run" / "last.pt"
    state = torch.load(checkpoint, weights_only=True)
    assert state["step"] == 2 and state["config"]["model"]["regime"] == "frozen"
    trained_on = json.loads((tmp_path / "fit" / "manifest.json").read_text())["videos"]
    assert len(trained_on) == 2 + len(synth)  # the two videos plus the --with dataset
    summary = json.loads((tmp_path / "summary.json").read_text())
    check = summary["fit_check"]
    from gtalign.apps.fit_check import COPIES_PER_VIDEO

    assert check["used"] in ("fitted", "default") and len(check["copies"]) == 2 * COPIES_PER_VIDEO
    assert len(check["default_errors"]) == len(check["fitted_errors"]) == len(check["copies"])
    assert np.isfinite(check["default_error_frames"]) and np.isfinite(check["fitted_error_frames"])
    if check["used"] == "fitted":
        assert summary["encoder"] == f"checkpoint {checkpoint.parent / 'ckpt_2.pt'}"
        assert check["fitted_error_frames"] < check["default_error_frames"]
    else:  # two steps of training rarely beat the default features: align falls back and says why
        assert summary["encoder"].startswith("features ") and "did not beat" in check["reason"]
    assert f"--fit check: {check['reason']}" in out


def test_checkpoint_encoder_equals_embed_video(synth, tiny_checkpoint):
    """Computing each frame's trunk maps once and gathering contexts gives `gtalign embed`'s embeddings."""
    from gtalign.apps.encoders import CheckpointEncoder
    from gtalign.train.embed import embed_video

    encoder = CheckpointEncoder(tiny_checkpoint, "cpu")
    ours = encoder.encode(synth, 1)
    reference = embed_video(encoder.model, encoder.config, synth, 1, 7, torch.device("cpu"))
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    assert encoder.conv_maps(synth, 1).shape[:2] == (synth.entries[1].num_frames, 8)
    # the training's trunk-feature cache (the trunk's float32 maps) gives the same embeddings
    cache = tiny_checkpoint.parent.parent / "feature_cache"
    assert any(cache.rglob("*.npy"))
    cached = CheckpointEncoder(tiny_checkpoint, "cpu", feature_cache=cache)

    def trunk_must_not_run(frames):
        raise AssertionError("the trunk ran although its features are cached")

    cached.model.trunk_features = trunk_must_not_run
    np.testing.assert_allclose(cached.encode(synth, 1), reference, rtol=0, atol=1e-6)


def test_transfer_audio_command(tmp_path, capsys, tiny_checkpoint):
    from gtalign.apps.audio import read_audio, write_video_with_audio
    from gtalign.data.video import probe_video
    from tests._helpers.apps import coded_frames, write_coded

    rate, fps_a = 8000, 20.0
    u_a = np.linspace(0, 1, 30)
    tone = (0.5 * np.sin(2 * np.pi * 300 * np.arange(int(30 / fps_a * rate)) / rate)).astype(np.float32)[None]
    video_a = write_video_with_audio(coded_frames(u_a), fps_a, tone, rate, tmp_path / "a.mp4")
    video_b = write_coded(tmp_path / "b.avi", np.linspace(0, 1, 45) ** 1.5, fps=25.0)
    code, out, _ = run(capsys, "transfer", "--from", video_a, "--to", video_b, "--audio", "--checkpoint",
                       tiny_checkpoint, "-o", tmp_path / "b_audio.mp4", "--quiet")
    assert code == 0 and "written" in out
    info = probe_video(tmp_path / "b_audio.mp4")
    assert info.num_frames == 45 and info.fps == pytest.approx(25.0)
    samples, got_rate = read_audio(tmp_path / "b_audio.mp4")
    assert got_rate == rate and abs(samples.shape[1] - 45 / 25.0 * rate) < 2048
    code, _, err = run(capsys, "transfer", "--from", video_b, "--to", video_a, "--audio", "--checkpoint",
                       tiny_checkpoint, "-o", tmp_path / "x.mp4", "--quiet")
    assert code == 2 and "no audio stream" in err


def test_a_track_of_the_wrong_length_is_refused_before_encoding(tmp_path, capsys, synth, tiny_checkpoint,
                                                                monkeypatch):
    import gtalign.cli.commands.apps as app_commands

    def no_encoding(*args, **kwargs):
        raise AssertionError("the videos were encoded before the track was checked")

    monkeypatch.setattr(app_commands, "encode_all", no_encoding)
    a, b = synth.entries[0], synth.entries[1]
    np.save(tmp_path / "short.npy", np.zeros((b.num_frames - 3, 2)))
    code, _, err = run(capsys, "transfer", "--from", b.path, "--to", a.path, "--track", tmp_path / "short.npy",
                       "--checkpoint", tiny_checkpoint, "-o", tmp_path / "out.npy", "--quiet")
    assert code == 2
    assert f"--track {tmp_path / 'short.npy'} must have one row per frame of the source video ({b.num_frames})" in err
    assert not (tmp_path / "out.npy").exists()
