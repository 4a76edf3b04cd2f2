"""A folder of videos and frame folders: classes from sub-folders, splits, label files."""
import numpy as np
from PIL import Image

from gtalign.data import open_source
from gtalign.data.labels import read_label_file
from gtalign.data.video import write_video


def flat(n, value=50):
    return np.full((n, 16, 16, 3), value, np.uint8)


def frame_folder(path, n):
    path.mkdir(parents=True)
    for j in range(n):
        Image.fromarray(flat(1, 10 * j)[0]).save(path / f"{j + 1:05d}.png")


def test_classes_splits_and_labels(tmp_path):
    write_video(tmp_path / "train" / "squat" / "a.mp4", flat(5), fps=12)
    np.save(tmp_path / "train" / "squat" / "a.labels.npy", np.array([0, 0, 1, 1, 2]))
    frame_folder(tmp_path / "train" / "jump" / "b", 4)
    (tmp_path / "train" / "jump" / "b.labels.csv").write_text("frame,phase\n2,1\n0,0\n1,0\n3,1\n")
    write_video(tmp_path / "val" / "squat" / "c.webm", flat(3), fps=10, codec="libvpx")
    source = open_source(tmp_path)
    assert type(source).__name__ == "VideoSource" and source.classes == ["jump", "squat"]
    got = {e.id: (e.class_name, e.split, e.num_frames, None if e.labels is None else e.labels.tolist())
           for e in source.entries}
    assert got == {"train_squat_a": ("squat", "train", 5, [0, 0, 1, 1, 2]),
                   "train_jump_b": ("jump", "train", 4, [0, 0, 1, 1]),
                   "val_squat_c": ("squat", "val", 3, None)}
    assert source.entries[[e.id for e in source.entries].index("train_squat_a")].fps == 12.0
    i = [e.id for e in source.entries].index("train_jump_b")
    np.testing.assert_array_equal(source.read_frames(i, [3, 1])[:, 0, 0, 0], [30, 10])
    assert [e.id for e in open_source(tmp_path, split="val").entries] == ["val_squat_c"]


def test_flat_folder_without_classes(tmp_path):
    write_video(tmp_path / "x.mov", flat(4), fps=30)
    (tmp_path / "x.labels.txt").write_text("1\n2\n3\n4\n")
    source = open_source(tmp_path, kind="folder")
    assert [(e.id, e.class_name, e.split) for e in source.entries] == [("x", "", "train")]
    np.testing.assert_array_equal(source.entries[0].labels, [1, 2, 3, 4])


def test_label_file_formats_agree(tmp_path):
    (tmp_path / "a.txt").write_text("3 1 2")
    (tmp_path / "b.csv").write_text("3\n1\n2\n")
    np.save(tmp_path / "c.npy", np.array([3, 1, 2], np.int32))
    for name in ("a.txt", "b.csv", "c.npy"):
        labels = read_label_file(tmp_path / name)
        assert labels.dtype == np.int64 and labels.tolist() == [3, 1, 2]
