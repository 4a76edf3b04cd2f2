"""Broken inputs are reported with their path and skipped, with a count; nothing readable is an error."""
import logging

import numpy as np
import pytest
from PIL import Image

from gtalign.data import open_source
from gtalign.data.tfrecord import frame_record, tcc_example
from gtalign.data.video import write_video
from gtalign.errors import GtalignError


def frames(n):
    return np.full((n, 16, 16, 3), 100, np.uint8)


def test_folder_skips_corrupt_empty_and_mislabelled_videos(tmp_path, caplog):
    write_video(tmp_path / "good.mp4", frames(6), fps=10)
    write_video(tmp_path / "mislabelled.mp4", frames(6), fps=10)
    (tmp_path / "mislabelled.labels.txt").write_text("0 1 2")
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    (tmp_path / "empty.avi").write_bytes(b"")
    broken_frames = tmp_path / "broken_frames"
    broken_frames.mkdir()
    Image.fromarray(frames(1)[0]).save(broken_frames / "000000.jpg")
    (broken_frames / "000001.jpg").write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="gtalign.data"):
        source = open_source(tmp_path, kind="folder")
    assert [e.id for e in source.entries] == ["good"]
    skipped = {s.path.rsplit("/", 1)[-1]: s.reason for s in source.skipped}
    assert set(skipped) == {"mislabelled.mp4", "corrupt.mp4", "empty.avi", "broken_frames"}
    assert "3 labels for 6 frames" in skipped["mislabelled.mp4"]
    text = caplog.text
    assert str(tmp_path / "corrupt.mp4") in text and "skipped 4 of 5 videos" in text


def test_nothing_readable_is_an_error(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"junk")
    (tmp_path / "b.mp4").write_bytes(b"")
    with pytest.raises(GtalignError, match="no readable videos"):
        open_source(tmp_path, kind="folder")


def test_tfrecord_skips_bad_records_and_keeps_the_rest(tmp_path, caplog):
    import io
    buf = io.BytesIO()
    Image.fromarray(frames(1)[0]).save(buf, "jpeg")
    jpg = buf.getvalue()
    good = frame_record(tcc_example("good", [jpg] * 3, frame_labels=np.zeros(3)))
    mislabelled = frame_record(tcc_example("mislabelled", [jpg] * 3, frame_labels=np.zeros(2)))
    empty = frame_record(tcc_example("empty", []))
    corrupt = bytearray(frame_record(tcc_example("corrupt", [jpg] * 3)))
    corrupt[-10] ^= 0x55
    bad_image = frame_record(tcc_example("bad_image", [b"not a jpeg"] * 2))
    path = tmp_path / "x_train-0-of-1.tfrecord"
    path.write_bytes(good + mislabelled + empty + bytes(corrupt) + bad_image + good[:20])  # + a truncated tail
    with caplog.at_level(logging.WARNING, logger="gtalign.data"):
        source = open_source(path)
    assert [e.id for e in source.entries] == ["good"]
    reasons = " | ".join(s.reason for s in source.skipped)
    assert len(source.skipped) == 5
    for needle in ("2 frame_labels for 3 frames", "empty video", "CRC", "not a readable image", "truncated"):
        assert needle in reasons
    assert "skipped 5 of 6 videos" in caplog.text
