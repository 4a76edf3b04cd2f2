"""The contact sheet of a retrieval: the query frame, then the hits in rank order."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gtalign.apps.retrieve import Hit
from gtalign.data.source import VideoSource
from gtalign.viz.sheet import contact_sheet, save_image

CELL = (128, 128)


def retrieval_sheet(query: VideoSource, frame: int, corpus: VideoSource, hits: list[Hit], out_png: str | Path,
                    cols: int = 6) -> Path:
    """Write the query frame (video 0 of `query`) and each hit's frame with captions as a PNG."""
    position = {e.id: i for i, e in enumerate(corpus.entries)}
    images = [query.read_frames(0, np.array([frame]))[0]]
    captions = [f"query {frame}"]
    for h in hits:
        images.append(corpus.read_frames(position[h.video], np.array([h.frame]))[0])
        captions.append(f"{h.rank}. {h.video}:{h.frame}")
    return save_image(contact_sheet(images, cols=cols, captions=captions, cell_size=CELL), out_png)
