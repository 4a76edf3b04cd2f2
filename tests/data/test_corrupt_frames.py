"""A corrupt image inside a frame folder is a clear error naming the file, not a traceback."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gtalign.errors import GtalignError


def _folder(path, n=12):
    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(path / f"{i:03d}.jpg", quality=90)
    return path


@pytest.mark.parametrize("keep", [0.05, 0.6])  # the header cut, or only the pixel data
def test_truncated_jpeg_in_a_frame_folder_is_named(tmp_path, keep):
    from gtalign.data.scan import count_frames
    from gtalign.data.source import read_frame_folder

    folder = _folder(tmp_path / "frames")
    bad = folder / "005.jpg"
    data = bad.read_bytes()
    bad.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(GtalignError, match=r"frame .*005\.jpg.* cannot be decoded"):
        count_frames(folder)
        read_frame_folder(folder)  # a header that survives is found when the frame is decoded


def test_align_on_a_folder_with_a_corrupt_frame_says_which(tmp_path, capsys):
    from gtalign.cli import main

    a, b = _folder(tmp_path / "a"), _folder(tmp_path / "b")
    (b / "007.jpg").write_bytes(b"not a jpeg")
    assert main(["align", str(a), str(b), "-o", str(tmp_path / "out"), "--features", "imagenet", "--quiet"]) == 2
    assert "007.jpg" in capsys.readouterr().err and not (tmp_path / "out").exists()
