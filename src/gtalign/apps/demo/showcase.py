"""The pictures of the demo: the held-out pair put in sync by a trained network.

For two held-out videos A and B (never trained on): the cost matrix with the DTW path of the trained network and
of the untrained one, the side-by-side video (B re-timed to A), both videos and the synchronized viewer page, and
a contact sheet of CAM overlays (supplement Sec. 7) of frames of A.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gtalign.data import open_source
from gtalign.data.sampling import iter_video_chunks
from gtalign.errors import GtalignError
from gtalign.evaluate import load_embeddings
from gtalign.evaluate.alignment import ops_dtw_path
from gtalign.evaluate.neighbours import pairwise_distances
from gtalign.ops import path_to_mapping
from gtalign.train.embed import load_embedder
from gtalign.viz import (
    cam_maps,
    contact_sheet,
    overlay,
    plot_alignment,
    write_browser_video,
    write_side_by_side,
    write_viewer,
)
from gtalign.viz.sheet import save_image
from gtalign.viz.viewer import viewer_data

CAM_FRAMES = 8  # frames of video A in the CAM contact sheet


@dataclass
class Showcase:
    """Files written for the report, relative to the output folder (None when not produced)."""

    alignment: list[tuple[str, str]]  # (caption, png)
    side_by_side: str
    video_a: str
    video_b: str
    viewer: str
    cam_sheet: str | None
    pair: tuple[str, str]


def _entry_index(source, video_id: str) -> int:
    for i, entry in enumerate(source.entries):
        if entry.id == video_id:
            return i
    raise GtalignError(f"video {video_id!r} is not in {source}")


def _embedding(embed_dir: Path, video_id: str) -> np.ndarray:
    for v in load_embeddings(embed_dir):
        if v.id == video_id:
            return v.emb
    raise GtalignError(f"{embed_dir}: no embeddings of video {video_id!r}")


def dtw_alignment(emb_a: np.ndarray, emb_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared Euclidean costs (N, M) of embeddings (N, D), (M, D) and their hard DTW path (P, 2)."""
    cost = pairwise_distances(emb_a, emb_b, "sqeuclidean")
    return cost, ops_dtw_path(cost)


def alignment_figures(embed_dirs: dict[str, Path], pair: tuple[str, str], out_dir: Path,
                      errors: dict[str, float]) -> list[tuple[str, str]]:
    """One cost-matrix-and-path PNG per network (caption, file name), named `alignment_<key>.png`."""
    out = []
    for key, embed_dir in embed_dirs.items():
        cost, path = dtw_alignment(_embedding(embed_dir, pair[0]), _embedding(embed_dir, pair[1]))
        title = f"{key}: {pair[0]} vs {pair[1]}, DTW error {errors[key]:.2f} frames"
        png = plot_alignment(cost, path, out_dir / f"alignment_{key}.png", title=title,
                             labels=(f"{pair[0]} frame", f"{pair[1]} frame"))
        out.append((title, png.name))
    return out


def synchronized_videos(source, pair: tuple[str, str], embed_dir: Path, out_dir: Path,
                        progress: bool = True) -> tuple[str, str, str, str]:
    """Side-by-side video, the two videos and the viewer page of the pair aligned with `embed_dir`'s embeddings.

    Returns the file names (side_by_side, video_a, video_b, viewer) inside `out_dir`.
    """
    ia, ib = _entry_index(source, pair[0]), _entry_index(source, pair[1])
    ea, eb = source.entries[ia], source.entries[ib]
    frames_a = source.read_frames(ia, np.arange(ea.num_frames))
    frames_b = source.read_frames(ib, np.arange(eb.num_frames))
    cost, path = dtw_alignment(_embedding(embed_dir, pair[0]), _embedding(embed_dir, pair[1]))
    side = write_side_by_side(frames_a, frames_b, path, out_dir / "side_by_side.mp4", fps=ea.fps, progress=progress)
    video_a = write_browser_video(frames_a, out_dir / f"{ea.id}.mp4", ea.fps)
    video_b = write_browser_video(frames_b, out_dir / f"{eb.id}.mp4", eb.fps)
    mapping = path_to_mapping(path, ea.num_frames)  # (N,) mean matched frame of B
    matched_cost = cost[path[:, 0], path[:, 1]]
    per_frame_cost = np.bincount(path[:, 0], matched_cost, ea.num_frames) / np.bincount(path[:, 0])
    data = viewer_data(np.arange(ea.num_frames) / ea.fps, mapping / eb.fps, per_frame_cost, ea.fps, eb.fps,
                       duration_b=eb.num_frames / eb.fps, verdict="same action (synthetic, held-out pair)")
    viewer = write_viewer(out_dir / "viewer.html", video_a, video_b, data,
                          title=f"gtalign demo: {ea.id} and {eb.id} in sync", names=(ea.id, eb.id))
    return side.name, video_a.name, video_b.name, viewer.name


@torch.no_grad()
def cam_sheet(source, video_id: str, checkpoint: Path, out_dir: Path) -> str:
    """Contact sheet of `CAM_FRAMES` frames of a video (top) and their CAM overlays (bottom): `cam_sheet.png`."""
    embedder, config = load_embedder(checkpoint)
    i = _entry_index(source, video_id)
    n = source.entries[i].num_frames
    chosen = np.unique(np.linspace(0, n - 1, CAM_FRAMES).round().astype(np.int64))
    d = config.data
    maps, steps = [], []
    for chunk_steps, frames in iter_video_chunks(source, i, chunk=32, num_context=d.num_context,
                                                 frame_stride=d.frame_stride, image_size=d.image_size):
        keep = np.isin(chunk_steps, chosen)
        if keep.any():
            _, conv = embedder(frames[keep][None], return_maps=True)  # (1, t, K, C, h, w)
            maps.append(conv[0, :, :, -1])  # the step's own frame: (t, K, h, w)
            steps.extend(chunk_steps[keep].tolist())
    frames = source.read_frames(i, np.asarray(steps))
    heat = cam_maps(torch.cat(maps), size=frames.shape[1:3])
    images = [*frames, *overlay(frames, heat)]
    captions = [f"frame {s}" for s in steps] + [f"CAM {s}" for s in steps]
    sheet = contact_sheet(images, cols=len(steps), captions=captions)
    return save_image(sheet, out_dir / "cam_sheet.png").name


def build_showcase(run, method: str = "gta", reference: str = "untrained", cam: bool = True,
                   progress: bool = True) -> Showcase:
    """The showcase of `run` (a `DemoRun`) for seed 0 of `method`, compared with `reference` in the figures
    (`progress`: whether writing the side-by-side video shows a progress bar)."""
    chosen = {key: run.of(key, run.seeds[0]) for key in (reference, method)}
    missing = [key for key, found in chosen.items() if not found]
    if missing:
        raise GtalignError(f"the showcase needs results of {missing} (seed {run.seeds[0]}); methods run: "
                           f"{sorted({r['method'] for r in run.results})}")
    records = {key: found[0] for key, found in chosen.items()}
    pair = tuple(records[method]["pair_ids"])
    embed_dirs = {key: Path(r["embeddings"]) for key, r in records.items()}
    errors = {key: r["pair"]["dtw"]["mae_frames"] for key, r in records.items()}
    source = open_source(run.manifest)
    figures = alignment_figures(embed_dirs, pair, run.out_dir, errors)
    side, video_a, video_b, viewer = synchronized_videos(source, pair, embed_dirs[method], run.out_dir, progress)
    sheet = cam_sheet(source, pair[0], Path(records[method]["checkpoint"]), run.out_dir) if cam else None
    return Showcase(figures, side, video_a, video_b, viewer, sheet, pair)
