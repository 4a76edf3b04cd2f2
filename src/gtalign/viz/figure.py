"""Matplotlib figures written as PNG files atomically, without a display."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from matplotlib.figure import Figure

from gtalign.io import atomic_path


@contextlib.contextmanager
def saved_figure(out_png: str | Path, figsize: tuple[float, float], dpi: int = 100) -> Iterator[tuple]:
    """Yield (figure, axes) of a new figure; on leaving, lay it out and write it to `out_png`.

    The figure is matplotlib's `Figure` itself, not one of pyplot's: no backend is chosen, no display is needed and
    nothing is left open."""
    fig = Figure(figsize=figsize, dpi=dpi)
    ax = fig.subplots()
    yield fig, ax
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png")
