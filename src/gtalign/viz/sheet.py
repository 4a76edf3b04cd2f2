"""Contact sheets: many images in one grid image, each with an optional caption."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from gtalign.errors import GtalignError, describe
from gtalign.io import atomic_path

CAPTION_HEIGHT = 14  # pixels of the caption strip under each cell


def _as_rgb(image: np.ndarray, index: int) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise GtalignError(f"images[{index}] must be uint8 (H, W, 3) or (H, W), got {describe(image)}")
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image


def contact_sheet(images: Sequence[np.ndarray], cols: int, captions: Sequence[str] | None = None, pad: int = 2,
                  cell_size: tuple[int, int] | None = None) -> np.ndarray:
    """Arrange `images` (each uint8 (H, W, 3) or (H, W)) in a grid of `cols` columns, row by row.

    Every image is resized to `cell_size` (H, W) (default: the first image's size). With `captions` (one per
    image) a caption strip is drawn under each cell. Returns uint8 (rows * (h + caption + pad) + pad,
    cols * (w + pad) + pad, 3) on a white background.
    """
    if len(images) == 0:
        raise GtalignError("images must hold at least one image, got an empty sequence")
    if not isinstance(cols, int) or cols < 1:
        raise GtalignError(f"cols must be a positive integer, got {cols!r}")
    if captions is not None and len(captions) != len(images):
        raise GtalignError(f"captions must have one entry per image ({len(images)}), got {len(captions)}")
    rgb = [_as_rgb(im, k) for k, im in enumerate(images)]
    h, w = cell_size or rgb[0].shape[:2]
    cap = CAPTION_HEIGHT if captions is not None else 0
    rows = -(-len(rgb) // cols)
    cols = min(cols, len(rgb))
    sheet = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + cap + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for k, image in enumerate(rgb):
        r, c = divmod(k, cols)
        x, y = pad + c * (w + pad), pad + r * (h + cap + pad)
        cell = Image.fromarray(image)
        if cell.size != (w, h):
            cell = cell.resize((w, h), Image.Resampling.BILINEAR)
        sheet.paste(cell, (x, y))
        if captions is not None:
            draw.text((x + 1, y + h + 1), str(captions[k])[: max(1, w // 6)], fill="black")
    return np.asarray(sheet)


def save_image(image: np.ndarray, path: str | Path) -> Path:
    """Write a uint8 (H, W, 3) image atomically (format from the suffix, e.g. .png)."""
    with atomic_path(path) as tmp:
        image_format = Image.registered_extensions().get(Path(path).suffix.lower())
        Image.fromarray(_as_rgb(image, 0)).save(tmp, format=image_format)
    return Path(path)
