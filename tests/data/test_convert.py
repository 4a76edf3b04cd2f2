"""`gtalign data convert` and `info`: any source -> manifest with links or frames, read back identically."""
import io

import numpy as np
from PIL import Image

from gtalign.cli import main
from gtalign.data import load_manifest, open_source
from gtalign.data.convert import convert
from gtalign.data.tfrecord import tcc_example, write_records
from gtalign.data.video import write_video


def test_folder_converts_to_links_and_reads_back(tmp_path):
    src = tmp_path / "src"
    clip = np.zeros((5, 16, 16, 3), np.uint8)
    clip[:, :, :, 1] = (40 * np.arange(5))[:, None, None]
    write_video(src / "wave" / "a.mp4", clip, fps=15)
    (src / "wave" / "a.labels.txt").write_text("0 0 1 1 1")
    out = tmp_path / "out"
    assert main(["data", "convert", str(src), "-o", str(out)]) == 0
    manifest = load_manifest(out)
    (entry,) = manifest.videos
    assert entry.path.is_symlink() and entry.path.resolve() == (src / "wave" / "a.mp4").resolve()
    assert (entry.id, entry.class_name, entry.num_frames, entry.fps, entry.labels.tolist()) == (
        "wave_a", "wave", 5, 15.0, [0, 0, 1, 1, 1])
    back = open_source(out)  # auto-detected as a manifest
    np.testing.assert_array_equal(back.read_frames(0), open_source(src).read_frames(0))


def test_tfrecord_converts_to_resized_frames(tmp_path, capsys):
    jpegs = []
    for j in range(4):
        buf = io.BytesIO()
        Image.fromarray(np.full((20, 40, 3), 60 * j, np.uint8)).save(buf, "jpeg", quality=95)
        jpegs.append(buf.getvalue())
    write_records(tmp_path / "pour_val-0-of-1.tfrecord", [tcc_example("p1", jpegs, frame_labels=[0, 1, 1, 2])])
    source = open_source(tmp_path / "pour_val-0-of-1.tfrecord")
    path = convert(source, tmp_path / "out", size=10)
    entry = load_manifest(path).videos[0]
    assert (entry.id, entry.split, entry.class_name, entry.labels.tolist()) == ("p1", "val", "pour", [0, 1, 1, 2])
    assert "tfrecord_offset" not in entry.meta and sorted(p.name for p in entry.path.iterdir())[0] == "000000.jpg"
    frames = open_source(path).read_frames(0)
    assert frames.shape == (4, 10, 20, 3)
    np.testing.assert_allclose(frames[:, 5, 10, 0], [0, 60, 120, 180], atol=4)
    assert main(["data", "info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "1 videos, 4 frames" in text and "val 1" in text and "pour 1" in text and "values 0..2" in text


def test_bad_options_and_synth_plumbing(tmp_path, monkeypatch, capsys):
    write_video(tmp_path / "v" / "a.mp4", np.zeros((3, 16, 16, 3), np.uint8), fps=10)
    assert main(["data", "convert", str(tmp_path / "v"), "-o", str(tmp_path / "o"), "--phases", "x"]) == 2
    assert "--phases" in capsys.readouterr().err
    assert main(["data", "convert", str(tmp_path / "v"), "-o", str(tmp_path / "o"), "--mode", "link",
                 "--size", "8"]) == 2
    calls = []
    import gtalign.cli.commands.data as data_commands

    monkeypatch.setattr(data_commands, "generate_dataset",
                        lambda out, **kw: calls.append((out, kw)) or tmp_path / "manifest.json")
    assert main(["data", "synth", "-o", str(tmp_path / "s"), "--classes", "2", "--size", "64"]) == 0
    assert calls == [(str(tmp_path / "s"), dict(num_classes=2, videos_per_class=40, min_frames=40, max_frames=120,
                                                  image_size=64, seed=0, workers=2, difficulty="easy"))]
