"""Contact sheets: geometry and where each image lands."""
import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.viz.sheet import CAPTION_HEIGHT, contact_sheet, save_image


def test_grid_places_each_image():
    images = [np.full((10, 12, 3), 20 * k, np.uint8) for k in range(5)]
    sheet = contact_sheet(images, cols=3, pad=2)
    assert sheet.shape == (2 * 12 + 2, 3 * 14 + 2, 3)
    for k in range(5):
        r, c = divmod(k, 3)
        y, x = 2 + r * 12, 2 + c * 14
        assert (sheet[y:y + 10, x:x + 12] == 20 * k).all()
    assert (sheet[2 + 12:, 2 + 2 * 14:] == 255).all()  # the empty sixth cell stays white


def test_captions_resize_and_grayscale(tmp_path):
    images = [np.zeros((20, 20), np.uint8), np.full((40, 10, 3), 255, np.uint8)]
    sheet = contact_sheet(images, cols=2, captions=["query", "hit 1"], pad=0)
    assert sheet.shape == (20 + CAPTION_HEIGHT, 40, 3)
    assert (sheet[:20, 20:] == 255).all() and (sheet[:20, :20] == 0).all()
    assert (sheet[20:, :20] < 128).any()  # caption text drawn
    out = save_image(sheet, tmp_path / "s.png")
    assert out.stat().st_size > 0


def test_bad_arguments():
    with pytest.raises(GtalignError, match="at least one image"):
        contact_sheet([], cols=2)
    with pytest.raises(GtalignError, match="cols"):
        contact_sheet([np.zeros((2, 2, 3), np.uint8)], cols=0)
    with pytest.raises(GtalignError, match=r"images\[0\]"):
        contact_sheet([np.zeros((2, 2, 3), np.float32)], cols=1)
