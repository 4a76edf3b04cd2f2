"""`gtalign sync` and `gtalign audit`: clocks of several cameras of one event from their footage, and the files.

`sync_videos` extracts each video's feature streams once, aligns every pair, fits and combines the clocks
(`gtalign.apps.sync`) and writes into the output folder:

- ``sync.json``: ``{"reference": name, "cameras": [{"video", "offset_s", "rate", "confidence", "status", ...}],
  "pairs": [...], "triples": [...]}``, where camera c shows reference time t at ``offset_s + rate * t``;
- ``sync.csv``: the same per camera;
- ``residuals.png``: per pair, how far each matched frame lies from the fitted clock (frames);
- ``viewer.html``: every camera with a clock playing in lockstep (browser copies in ``videos/``);
- with ``write_videos``: ``synced/<name>.mp4``, each camera re-timed onto the reference clock over the time all
  cameras with a clock cover, at the reference's frame rate.

`audit` does the same for a folder of videos that should be in sync already and lists those off by more than a
tolerance.
"""
from __future__ import annotations

import csv
import dataclasses
import io
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from gtalign.apps.align import align_features, extract_all
from gtalign.apps.alignment import PathSettings
from gtalign.apps.display import display_frames, display_taps
from gtalign.apps.features import banded_whole_frames
from gtalign.apps.sync import Clock, PairClock, SyncResult, pair_clock, sync_from_pairs, sync_json
from gtalign.data.source import VideoSource
from gtalign.data.video import write_video
from gtalign.errors import GtalignError
from gtalign.io import atomic_write_text, write_json
from gtalign.viz.figure import saved_figure
from gtalign.viz.sync_viewer import write_sync_viewer
from gtalign.viz.video import write_browser_video

SYNC_COLUMNS = ("video", "offset_s", "rate", "confidence", "status", "offset_frames", "fps", "pairs_used",
                "residual_frames", "reason")


def named_index(reference: str | None, names: list[tuple[str, ...]], what: str) -> int:
    """The index of the item one of whose `names` is `reference` (0 when None); GtalignError listing each item by
    its first name otherwise (`what`: "videos", "sequences")."""
    if reference is None:
        return 0
    for k, item in enumerate(names):
        if reference in item:
            return k
    raise GtalignError(f"--reference {reference!r} is not one of the {what} ({', '.join(n[0] for n in names)})")


def reference_index(source: VideoSource, reference: str | None) -> int:
    """The index of `reference` (a file name as given, or its id) among the videos; 0 when None."""
    return named_index(reference, [(e.id, Path(e.path).name, str(e.path)) for e in source.entries], "videos")


#: The path for clocks: no smooth-speed prior (`PathSettings.smooth_s`), since the clock line is the prior here, and
#: smoothing would tie neighbouring frames' residuals together and overstate how many frames lie on the line (on
#: the sync benchmark it marked a camera 2.8 frames off "ok"); and no calibrated per-frame confidence, which the clocks
#: do not read (they weigh frames by the posterior's certainty).
SYNC_PATH = PathSettings(smooth_s=0.0, calibrate=False)


def pairwise_clocks(feats: list, fps: list[float], spec, settings: PathSettings = SYNC_PATH,
                    progress: bool = True) -> list[PairClock]:
    """Every pair (a < b) of the videos' streams (`apps.features.VideoFeatures`) aligned, with its fitted clock.

    Motion never joins whole frames here (`apps.align.align_features`' `fallback_motion`): cameras of one event
    are other viewpoints, where motion changes with the viewpoint. On the sync benchmark it moved three cameras from
    0.15-0.76 to 0.31-1.33 frames off and marked a camera 2.5 frames off "ok". Nor are the costs made contextual
    (`align_features`' `contextual`): the confidence is calibrated on plain costs, and with contextual ones fewer
    cameras were within 1 frame on the sync benchmark (50% against 67%).

    Where cameras show a person, whole frames are still a candidate beside the person (`align_features`'
    `whole_frames`), and the same-process z picks. Across real viewpoints the person wins (whole frames change
    with the viewpoint far more than a person's pose and crop do); in a cartoon, where BlazePose finds "people",
    the whole frames win: on the sync benchmark a `Megamind` camera went from 1.16 frames off (ok) to 0.07, and
    every camera marked ok was then within 1 frame. Whole frames are compared in horizontal bands
    (`apps.features.banded_whole_frames`), not as one descriptor: one descriptor moved a camera of a still scene
    from 0.76 to 1.89 frames off.
    """
    feats = [banded_whole_frames(f) for f in feats]
    pairs = []
    for a, b in tqdm(list(combinations(range(len(feats)), 2)), desc="pairs", unit="pair", disable=not progress):
        found = align_features(spec, feats[a], feats[b], fps[a], fps[b], settings, fallback_motion=False,
                               contextual=False)
        pairs.append(dataclasses.replace(pair_clock(found.alignment, fps[a], fps[b], a, b), streams=found.streams,
                                         people=found.people))
    return pairs


def sync_csv(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SYNC_COLUMNS)
    for cam in doc["cameras"]:
        writer.writerow(["" if cam.get(k) is None else cam.get(k) for k in SYNC_COLUMNS])
    return out.getvalue()


def plot_residuals(pairs: list[PairClock], names: list[str], out_png: Path) -> Path:
    """One panel per pair: residual (frames of b) of each matched frame of a against the pair's clock line."""
    cols = min(3, max(1, len(pairs)))
    rows = -(-len(pairs) // cols)
    with saved_figure(out_png, (4.2 * cols, 2.6 * rows)) as (fig, _):
        fig.clf()
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, p in zip(axes.flat, pairs):
            ok = np.isfinite(p.residual)
            near = np.abs(p.residual[ok]) <= 2
            ax.scatter(p.t_a[ok][near], p.residual[ok][near], s=4, color="tab:blue", label="on the clock line")
            ax.scatter(p.t_a[ok][~near], np.clip(p.residual[ok][~near], -8, 8), s=4, color="tab:red",
                       label="off it")
            ax.axhline(0, color="k", lw=0.8)
            ax.set_ylim(-8.5, 8.5)
            status = "no clock" if p.clock is None else f"offset {p.clock.offset_s:+.3f} s, rate {p.clock.rate:.4f}"
            ax.set_title(f"{names[p.b]} vs {names[p.a]}\n{status}", fontsize=8)
            ax.set_xlabel(f"time of {names[p.a]} (s)", fontsize=8)
            ax.set_ylabel("residual (frames)", fontsize=8)
        for ax in list(axes.flat)[len(pairs):]:
            ax.axis("off")
    return out_png


def _common_span(result: SyncResult, durations: list[float]) -> tuple[float, float] | None:
    """The reference times every camera with a clock covers."""
    lo, hi = 0.0, durations[result.reference]
    for cam in result.cameras:
        if cam.clock is not None:
            lo = max(lo, -cam.clock.offset_s / cam.clock.rate)
            hi = min(hi, (durations[cam.index] - cam.clock.offset_s) / cam.clock.rate)
    return (lo, hi) if hi > lo else None


def write_sync(pairs: list[PairClock], names: list[str], fps: list[float], durations: list[float], reference: int,
               features: str, out: Path) -> tuple[SyncResult, dict[str, Any]]:
    """The pairs' clocks combined against camera `reference` and written into `out` (``sync.json`` with
    `features` saying what was compared, ``sync.csv``, ``residuals.png``): (the result, the ``sync.json`` object)."""
    result = sync_from_pairs(pairs, len(names), reference, fps)
    doc = sync_json(result, names, fps, durations)
    doc["features"] = features
    write_json(out / "sync.json", doc)
    atomic_write_text(out / "sync.csv", sync_csv(doc))
    plot_residuals(pairs, names, out / "residuals.png")
    return result, doc


def synced_times(result: SyncResult, source: VideoSource) -> np.ndarray:
    """The reference times (seconds) of the synced copies: the span every camera with a clock covers, at the
    reference's frame rate."""
    span = _common_span(result, [e.num_frames / e.fps for e in source.entries])
    if span is None:
        raise GtalignError("--write-videos: the cameras with a clock share no common time span")
    return np.arange(span[0], span[1], 1.0 / source.entries[result.reference].fps)


def write_synced(frames: np.ndarray, clock: Clock, fps: float, times: np.ndarray, fps_out: float,
                 out_video: Path) -> Path:
    """One camera's display frames (T, H, W, 3) at `fps` re-timed onto the reference times `times` by `clock`."""
    idx = np.clip(np.floor(clock(times) * fps + 1e-6).astype(np.int64), 0, len(frames) - 1)
    return write_video(out_video, frames[idx], fps_out)


def sync_videos(source: VideoSource, extractor, out_dir: str | Path, reference: int = 0,
                settings: PathSettings = SYNC_PATH, max_side: int = 480, write_videos: bool = False,
                viewer: bool = True, progress: bool = True) -> dict[str, Any]:
    """Synchronise the videos of `source` against video `reference`; write the files (module docstring) and
    return the ``sync.json`` object."""
    if len(source) < 2:
        raise GtalignError(f"sync needs two or more videos, got {len(source)}")
    out = Path(out_dir)
    files = [Path(e.path).name for e in source.entries]
    names = [f if files.count(f) == 1 else e.id for f, e in zip(files, source.entries)]  # cam1/GX010001.MP4 ...
    fps = [e.fps for e in source.entries]
    durations = [e.num_frames / e.fps for e in source.entries]
    displays = display_taps(source, max_side) if viewer or write_videos else None
    pairs = pairwise_clocks(extract_all(source, extractor, progress, displays=displays), fps, extractor.spec,
                            settings, progress)
    result, doc = write_sync(pairs, names, fps, durations, reference, extractor.description, out)
    times = synced_times(result, source) if write_videos else None
    cams = []
    for k, cam in enumerate(doc["cameras"] if viewer or write_videos else []):
        frames = display_frames(source, k, max_side, displays)  # kept from the features pass, or decoded once
        clock = result.cameras[k].clock
        if times is not None and clock is not None:
            write_synced(frames, clock, fps[k], times, fps[reference],
                         out / "synced" / f"{source.entries[k].id}.mp4")  # ids are distinct, stems may not be
        if viewer:
            src = write_browser_video(frames, out / "videos" / f"{k:02d}.mp4", fps[k])
            cams.append({"name": cam["video"], "src": src} | {key: cam[key] for key in
                                                              ("offset_s", "rate", "fps", "duration_s", "status",
                                                               "confidence")})
    if viewer:
        write_sync_viewer(out / "viewer.html", cams, reference, title=f"gtalign sync: {len(cams)} cameras")
    return doc


def audit_rows(doc: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """Per camera: how far (frames) it is from the reference at the worse end of its own footage (offset plus the
    drift accumulated over its duration), and the verdict ``off``: True when that is beyond `tolerance` by more than
    the clock's estimated error, False when within it by more than that error, None ("cannot tell") otherwise or
    without a clock."""
    rows = []
    for cam in doc["cameras"]:
        off, worst = None, None
        error = cam.get("error_frames")
        if cam["offset_s"] is not None:
            worst = max(abs(cam["offset_s"] + (cam["rate"] - 1.0) * t) * cam["fps"] for t in (0.0, cam["duration_s"]))
            e = 0.0 if error is None else error
            off = True if worst - e > tolerance else False if worst + e <= tolerance else None
        rows.append({"video": cam["video"], "off": off, "worst_frames": worst, "error_frames": error,
                     "offset_s": cam["offset_s"],
                     "drift_per_hour_s": None if cam["rate"] is None else (cam["rate"] - 1.0) * 3600.0,
                     "confidence": cam["confidence"], "status": cam["status"]})
    return rows
