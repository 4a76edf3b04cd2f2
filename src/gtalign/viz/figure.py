"""Matplotlib figures written as PNG files atomically, without a display."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from gtalign.io import atomic_path


@contextlib.contextmanager
def saved_figure(out_png: str | Path, figsize: tuple[float, float], dpi: int = 100) -> Iterator[tuple]:
    """Yield (figure, axes) of a new figure; on leaving, lay it out, write it to `out_png` and close it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    try:
        yield fig, ax
        fig.tight_layout()
        with atomic_path(out_png) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
