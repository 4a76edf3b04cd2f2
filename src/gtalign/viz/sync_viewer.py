"""The sync viewer: one self-contained HTML page (no network) that plays several cameras in lockstep.

Camera k shows reference time t at its own time ``offset_s + rate * t`` (`gtalign.apps.sync`); the page keeps every
video there while playing and when the reference time is scrubbed. Cameras without a clock are left out.
"""
from __future__ import annotations

import html
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from gtalign.errors import GtalignError
from gtalign.io import atomic_write_text
from gtalign.viz.viewer import fill_template


def render_sync_viewer(cameras: list[dict[str, Any]], reference: int, title: str = "gtalign sync") -> str:
    """The page's HTML. `cameras`: per camera ``name``, ``src`` (URL relative to the page), ``offset_s`` and
    ``rate`` (None without a clock), ``fps``, ``duration_s``, ``status``, ``confidence``."""
    if not 0 <= reference < len(cameras) or cameras[reference]["offset_s"] is None:
        raise GtalignError(f"reference must be a camera with a clock, got {reference!r}")
    keys = ("name", "src", "offset_s", "rate", "fps", "duration_s", "status", "confidence")
    data = {"reference": reference, "cameras": [{k: c[k] for k in keys} for c in cameras]}
    template = resources.files("gtalign.viz").joinpath("sync_viewer.html").read_text(encoding="utf-8")
    payload = json.dumps(data).replace("</", "<\\/")  # a JSON string may not close the <script> element
    return fill_template(template, {"__TITLE__": html.escape(title), "__DATA__": payload})


def write_sync_viewer(out_html: str | Path, cameras: list[dict[str, Any]], reference: int,
                      title: str = "gtalign sync") -> Path:
    """Write the page; each camera's ``src`` is a video file path, made relative to the page."""
    out_html = Path(out_html)
    rel = []
    for c in cameras:
        if not Path(c["src"]).is_file():
            raise GtalignError(f"sync viewer: {c['src']} is not a video file")
        rel.append(c | {"src": Path(os.path.relpath(Path(c["src"]).resolve(), out_html.parent.resolve())).as_posix()})
    atomic_write_text(out_html, render_sync_viewer(rel, reference, title))
    return out_html
