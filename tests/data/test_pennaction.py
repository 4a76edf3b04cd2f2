"""PennAction in its released layout: .mat labels, 13 alignment actions, train/val, phase label files."""
import json

import numpy as np
import pytest
import scipy.io
from PIL import Image

from gtalign.data import open_source
from gtalign.data.pennaction import ALIGNMENT_ACTIONS, ALL_ACTIONS, read_label_mat
from gtalign.errors import GtalignError

VIDEOS = {"0001": ("baseball_pitch", 1, 5), "0002": ("baseball_pitch", -1, 4), "0003": ("squat", 1, 6),
          "0004": ("jump_rope", 1, 3), "0005": ("squat", -1, 4)}


def make_penn(root, nframes_override=None):
    for vid, (action, train, n) in VIDEOS.items():
        (root / "frames" / vid).mkdir(parents=True)
        for j in range(n):
            Image.fromarray(np.full((8, 10, 3), 20 * j, np.uint8)).save(root / "frames" / vid / f"{j + 1:06d}.jpg")
        (root / "labels").mkdir(exist_ok=True)
        declared = (nframes_override or {}).get(vid, n)
        scipy.io.savemat(root / "labels" / f"{vid}.mat", {
            "action": action, "pose": "front", "train": np.array([[train]]), "nframes": np.array([[declared]]),
            "x": np.zeros((n, 13)), "y": np.zeros((n, 13)), "visibility": np.ones((n, 13)),
            "bbox": np.zeros((n, 4)), "dimensions": np.array([[8, 10, n]])})


def test_mat_fields():
    assert len(ALIGNMENT_ACTIONS) == 13 and len(ALL_ACTIONS) == 15


def test_reads_layout_splits_classes_and_phase_folder(tmp_path):
    make_penn(tmp_path)
    fields = read_label_mat(tmp_path / "labels" / "0002.mat")
    assert fields == {"action": "baseball_pitch", "train": False, "nframes": 4, "pose": "front"}
    (tmp_path / "phases").mkdir()
    (tmp_path / "phases" / "0001.txt").write_text("0 0 1 1 2")
    np.save(tmp_path / "phases" / "0003.npy", np.array([0, 1, 1, 2, 2, 3]))
    source = open_source(tmp_path)
    assert type(source).__name__ == "VideoSource"
    assert [(e.id, e.class_name, e.split, e.num_frames) for e in source.entries] == [
        ("0001", "baseball_pitch", "train", 5), ("0002", "baseball_pitch", "val", 4),
        ("0003", "squat", "train", 6), ("0005", "squat", "val", 4)]  # jump_rope is not an alignment action
    assert source.classes == ["baseball_pitch", "squat"]
    assert source.entries[0].labels.tolist() == [0, 0, 1, 1, 2] and source.entries[1].labels is None
    np.testing.assert_allclose(source.read_frames(2, [5, 0])[:, 0, 0, 0], [100, 0], atol=3)
    assert [e.id for e in open_source(tmp_path, kind="pennaction", split="val").entries] == ["0002", "0005"]
    assert "0004" in [e.id for e in open_source(tmp_path, kind="pennaction", actions="all").entries]


def test_phase_json_and_mismatches_are_skipped(tmp_path):
    make_penn(tmp_path, nframes_override={"0005": 9})
    phases = tmp_path / "phases.json"
    phases.write_text(json.dumps({"1": [0, 1, 1, 1, 2], "3": [0, 1]}))  # "3" is too short for 6 frames
    source = open_source(tmp_path, kind="pennaction", phases=phases)
    assert [e.id for e in source.entries] == ["0001", "0002"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in source.skipped}
    assert "2 labels for 6 frames" in reasons["0003"] and "nframes=9" in reasons["0005"]
    with pytest.raises(GtalignError, match="unknown"):
        open_source(tmp_path, kind="pennaction", actions=["dance"])
