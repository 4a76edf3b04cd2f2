"""FineGym: annotation JSON + category and element files over local videos; the re-organization order."""
import json

import numpy as np
import pytest

from gtalign.cli import main
from gtalign.data import load_manifest, open_source
from gtalign.data.finegym import read_categories
from gtalign.data.finegym_reorganize import set_clips
from gtalign.data.video import read_video, write_video
from gtalign.errors import GtalignError

CATEGORIES = """Clabel:   0; set:  1; Glabel:   1; (VT) round-off, flic-flac 0.5 turn on, stret salto-f 0.5 turn off
Clabel:   6; set: 21; Glabel:  67; (FX) sw-leap 0.5 turn
Clabel:   7; set: 21; Glabel:  68; (FX) sw-leap 1 turn
Clabel:   8; set: 21; Glabel:  72; (FX) sp-leap 1 turn
Clabel:  17; set: 22; Glabel: 134; (FX) 2 turn (180 leg)
Clabel:  18; set: 22; Glabel: 137; (FX) 2 turn (straight)
Clabel:  31; set: 25; Glabel: 181; (FX) 2x salto-b st
Clabel:  32; set: 25; Glabel: 182; (FX) salto-b stret with 3 tw
"""
E1 = {"A_0000_0001": ([[0.0, 0.8]], 6), "A_0001_0002": ([[1.0, 1.8]], 31), "A_0002_0003": ([[2.0, 2.6]], 7),
      "A_0003_0004": ([[3.0, 3.5]], 17), "A_0009_0010": ([[3.6, 3.9]], None)}  # last: not in gym99
E2 = {"A_0000_0001": ([[0.2, 1.0]], 18), "A_0001_0003": ([[1.5, 2.5]], 8), "A_0003_0004": ([[3.0, 3.8]], 32)}
E3 = {"A_0000_0001": ([[0.2, 0.6], [0.8, 1.4]], 0)}  # a vault in two stages
EVENTS = {"E_000001_000005": (2, [1.0, 5.0], E1, "train"), "E_000006_000010": (2, [6.0, 10.0], E2, "val"),
          "E_000010_000012": (1, [10.0, 12.0], E3, "val")}
FPS = 10


def make_finegym(root):
    """Annotations for vidA (3 events) and vidB (video missing); vidA frame j has red value 2 j (its time)."""
    ann = {"vidA": {}, "vidB": {"E_000001_000002": {"event": 3, "timestamps": [[1.0, 2.0]], "segments": {
        "A_0000_0001": {"stages": 1, "timestamps": [[0.0, 0.5]]}}}}}
    lines = {"train": ["vidB_E_000001_000002_A_0000_0001 6"], "val": []}
    for eid, (event, span, segs, split) in EVENTS.items():
        ann["vidA"][eid] = {"event": event, "timestamps": [span], "segments": {
            sid: {"stages": len(ts), "timestamps": ts} for sid, (ts, _) in segs.items()}}
        lines[split] += [f"vidA_{eid}_{sid} {label}" for sid, (_, label) in segs.items() if label is not None]
    (root / "finegym_annotation_info_v1.1.json").write_text(json.dumps(ann))
    (root / "gym99_categories.txt").write_text(CATEGORIES)
    (root / "gym99_train_element_v1.1.txt").write_text("\n".join(lines["train"]) + "\n")
    (root / "gym99_val_element.txt").write_text("\n".join(lines["val"]) + "\n")
    frames = np.zeros((125, 16, 16, 3), np.uint8)
    frames[:, :, :, 0] = (2 * np.arange(125))[:, None, None]
    write_video(root / "videos" / "vidA.mp4", frames, fps=FPS)


def expected_labels(segs, n):
    out = []
    for k in range(n):
        t = k / FPS
        hit = [lab for ts, lab in segs.values()
               if lab is not None and min(s for s, _ in ts) <= t < max(e for _, e in ts)]
        out.append(hit[0] if hit else -1)
    return out


def test_reads_events_labels_splits(tmp_path):
    make_finegym(tmp_path)
    assert read_categories(tmp_path / "gym99_categories.txt")[31].set_id == 25
    source = open_source(tmp_path, fps=FPS)
    assert type(source).__name__ == "FineGymSource"
    assert [(e.id, e.class_name, e.split, e.num_frames) for e in source.entries] == [
        ("vidA_E_000001_000005", "FX", "train", 40), ("vidA_E_000006_000010", "FX", "val", 40),
        ("vidA_E_000010_000012", "VT", "val", 20)]
    assert len(source.skipped) == 1 and "vidB" in source.skipped[0].path
    for entry, (_, _, segs, _) in zip(source.entries, EVENTS.values()):
        assert entry.labels.tolist() == expected_labels(segs, entry.num_frames)
    frames = source.read_frames(0, [0, 15, 39])  # event starts at 1.0 s: frames 10, 25, 49 of the video
    np.testing.assert_allclose(frames[:, 0, 0, 0], [20, 50, 98], atol=4)
    assert source.manifest.label_names["FX"][31] == "(FX) 2x salto-b st"


def test_missing_files_are_named(tmp_path):
    make_finegym(tmp_path)
    (tmp_path / "gym99_categories.txt").unlink()
    with pytest.raises(GtalignError, match="gym99_categories.txt"):
        open_source(tmp_path, kind="finegym")


def test_reorganize_uses_mean_onset_prototype_order(tmp_path):
    make_finegym(tmp_path)
    out = tmp_path / "reorg"
    assert main(["data", "finegym-reorganize", str(tmp_path), "-o", str(out), "--fps", str(FPS)]) == 0
    orders = json.loads((out / "prototype_orders.json").read_text())
    # independent: mean over FX videos of each set's first onset / event duration
    onsets: dict[int, list[float]] = {}
    for event, (s, e), segs, _ in EVENTS.values():
        if event != 2:
            continue
        first: dict[int, float] = {}
        for ts, lab in sorted(segs.values(), key=lambda v: v[0][0][0]):
            if lab is not None:
                set_id = {6: 21, 7: 21, 8: 21, 17: 22, 18: 22, 31: 25, 32: 25}[lab]
                first.setdefault(set_id, ts[0][0])
        for set_id, t in first.items():
            onsets.setdefault(set_id, []).append(t / (e - s))
    assert orders["FX"] == sorted(onsets, key=lambda k: np.mean(onsets[k])) == [21, 22, 25]
    assert orders["VT"] == [1]

    manifest = load_manifest(out)
    e1 = manifest.videos[0]
    # E1 clips [21: 0-0.8] [25: 1.0-1.8] [21: 2.0-2.6] [22: 3.0-3.5] -> 21, 21, 22, 25 at 10 fps
    assert e1.labels.tolist() == [6] * 8 + [7] * 6 + [17] * 5 + [31] * 8
    assert [c["set"] for c in e1.meta["clips"]] == [21, 21, 22, 25]
    source_times = np.concatenate([np.arange(8) / 10 + 0.0, np.arange(6) / 10 + 2.0, np.arange(5) / 10 + 3.0,
                                   np.arange(8) / 10 + 1.0]) + 1.0  # + event start
    red = read_video(e1.path)[:, 0, 0, 0].astype(float)
    np.testing.assert_allclose(red, 2 * np.round(source_times * FPS), atol=6)
    assert np.loadtxt(e1.path.with_name(f"{e1.id}.labels.txt")).astype(int).tolist() == e1.labels.tolist()
    # the re-organized folder reads back as a manifest source with the same labels
    assert open_source(out).entries[0].labels.tolist() == e1.labels.tolist()


def test_set_clips_and_explicit_order(tmp_path):
    elements = [{"start": 2.0, "end": 3.0, "label": 1, "set": 22}, {"start": 0.0, "end": 1.0, "label": 0, "set": 21},
                {"start": 1.0, "end": 1.5, "label": 2, "set": 21}]
    clips = set_clips(elements)
    assert [(c.set_id, c.start, c.end, len(c.elements)) for c in clips] == [(21, 0.0, 1.5, 2), (22, 2.0, 3.0, 1)]
    make_finegym(tmp_path)
    out = tmp_path / "reorg"
    assert main(["data", "finegym-reorganize", str(tmp_path), "-o", str(out), "--fps", "10",
                 "--order", "FX=25,22,21", "--split", "train"]) == 0
    e1 = load_manifest(out).videos[0]
    assert e1.labels.tolist() == [31] * 8 + [17] * 5 + [6] * 8 + [7] * 6
    assert main(["data", "finegym-reorganize", str(tmp_path), "-o", str(out), "--order", "FX"]) == 2
