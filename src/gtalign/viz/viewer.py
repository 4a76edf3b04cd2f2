"""The synchronized viewer: one self-contained HTML page (no network) that plays two aligned videos in sync.

The videos are files next to the page (relative paths); the alignment is inline JSON: for every frame i of A its
time `time_a[i]`, the aligned time of B `time_b[i]`, the frame cost `cost[i]` and, where known, the confidence
`confidence[i]` (null otherwise). Seeking or playing A moves B to the linearly interpolated aligned time.
"""
from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.io import atomic_write_text


def _vector(name: str, value: Any, n: int | None) -> list[float]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or len(arr) == 0 or (n is not None and len(arr) != n):
        raise GtalignError(f"{name} must be a non-empty 1-D array{'' if n is None else f' of length {n}'}, "
                           f"got {describe(arr)}")
    check_finite(name, arr)
    return [round(float(x), 6) for x in arr]


def viewer_data(time_a: np.ndarray, time_b: np.ndarray, cost: np.ndarray, fps_a: float, fps_b: float,
                duration_b: float | None = None, verdict: str = "", same_process: bool = True,
                confidence: np.ndarray | None = None) -> dict[str, Any]:
    """The JSON the page reads: per frame of A (N,), its time, B's aligned time (s), the frame cost and, when
    given, the confidence in [0, 1] (`gtalign.apps.confidence`: drawn under the cost, low stretches marked)."""
    ta = _vector("time_a", time_a, None)
    if any(t1 <= t0 for t0, t1 in zip(ta, ta[1:])):
        raise GtalignError("time_a must be strictly increasing (one time per frame of A)")
    for name, fps in (("fps_a", fps_a), ("fps_b", fps_b)):
        if not float(fps) > 0:
            raise GtalignError(f"{name} must be > 0, got {fps!r}")
    conf = None if confidence is None else _vector("confidence", confidence, len(ta))
    if conf is not None and not all(0.0 <= c <= 1.0 for c in conf):
        raise GtalignError("confidence must lie in [0, 1] (a probability per frame of A)")
    return {"time_a": ta, "time_b": _vector("time_b", time_b, len(ta)), "cost": _vector("cost", cost, len(ta)),
            "confidence": conf, "fps_a": float(fps_a), "fps_b": float(fps_b),
            "duration_b": float(duration_b) if duration_b else None, "verdict": verdict,
            "same_process": bool(same_process)}


def render_viewer(video_a: str, video_b: str, data: dict[str, Any], title: str = "gtalign alignment",
                  names: tuple[str, str] = ("A", "B")) -> str:
    """The page's HTML with video sources `video_a`, `video_b` (URLs relative to the page) and the inline data."""
    template = resources.files("gtalign.viz").joinpath("viewer.html").read_text(encoding="utf-8")
    payload = json.dumps(data).replace("</", "<\\/")  # a JSON string may not close the <script> element
    replacements = {"__TITLE__": html.escape(title), "__VIDEO_A__": html.escape(video_a, quote=True),
                    "__VIDEO_B__": html.escape(video_b, quote=True), "__NAME_A__": html.escape(names[0]),
                    "__NAME_B__": html.escape(names[1]), "__DATA__": payload}
    return fill_template(template, replacements)


def fill_template(template: str, replacements: dict[str, str]) -> str:
    """`template` with each placeholder key replaced by its value in one pass: a value that contains a placeholder
    (a video named ``__DATA__.mp4``) is inserted as it is, never filled in again."""
    pattern = "|".join(re.escape(k) for k in sorted(replacements, key=len, reverse=True))
    return re.sub(pattern, lambda m: replacements[m.group(0)], template)


def write_viewer(out_html: str | Path, video_a: str | Path, video_b: str | Path, data: dict[str, Any],
                 title: str = "gtalign alignment", names: tuple[str, str] | None = None) -> Path:
    """Write the viewer page `out_html` that plays the video files `video_a` and `video_b` (browser-playable,
    e.g. from `gtalign.viz.video.write_browser_video`) in sync according to `data` (see `viewer_data`)."""
    out_html = Path(out_html)
    for name, video in (("video_a", video_a), ("video_b", video_b)):
        if not Path(video).is_file():
            raise GtalignError(f"{name} must be an existing video file, got {video}")
    rel = [Path(os.path.relpath(Path(v).resolve(), out_html.parent.resolve())).as_posix() for v in (video_a, video_b)]
    names = names or (Path(video_a).stem, Path(video_b).stem)
    atomic_write_text(out_html, render_viewer(rel[0], rel[1], data, title, names))
    return out_html
