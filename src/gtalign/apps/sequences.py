"""Aligning per-frame arrays a user already has (pose keypoints, IMU, mocap markers) instead of videos.

A sequence is a `.npy` array with frames first (any trailing shape, flattened to D values a frame) or a `.csv` with
a row per frame (an optional header row). Each of the D values is scaled by its spread over both sequences, so
that no unit (millimetres beside radians) dominates; the costs are squared Euclidean distances divided by their
median, on the same constrained path as video features (`apps.alignment.align_costs`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from gtalign.apps.align import dropped_json, span_json, span_message, unsure_json, write_csv_and_plot
from gtalign.apps.alignment import Alignment, PathSettings, align_costs
from gtalign.apps.sameness import sameness_test
from gtalign.apps.transfer import TRACK_SUFFIXES, read_track
from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.io import write_json
from gtalign.ops import sqeuclidean_cost


def is_sequence_file(path: str | Path) -> bool:
    """Whether `path` names a per-frame array file (`.npy` or `.csv`) rather than a video."""
    return Path(path).suffix.lower() in TRACK_SUFFIXES


def read_sequence(path: str | Path) -> np.ndarray:
    """The per-frame array of `path` as float64 (T, D); GtalignError naming the file when it cannot be one."""
    values, _ = read_track(path)
    if values.ndim == 0 or len(values) < 2 or not np.issubdtype(values.dtype, np.number):
        raise GtalignError(f"{path}: expected a numeric array with at least 2 frames (rows), got {describe(values)}")
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    check_finite(str(path), values)
    return values


def read_sequences(paths: Sequence[str | Path]) -> list[np.ndarray]:
    """Every file's per-frame array (`read_sequence`), all read and checked before any work: each (T_k, D) with one
    D for all; GtalignError naming the file that differs."""
    arrays = [read_sequence(p) for p in paths]
    for p, x in zip(paths[1:], arrays[1:]):
        if x.shape[1] != arrays[0].shape[1]:
            raise GtalignError(f"{p} has {x.shape[1]} values a frame but {paths[0]} has {arrays[0].shape[1]}")
    return arrays


def sequence_alignment(a: np.ndarray, b: np.ndarray, fps_a: float, fps_b: float,
                       settings: PathSettings = PathSettings()) -> Alignment:
    """Align sequence `a` (N, D) to `b` (M, D) (NumPy arrays or torch tensors): each value scaled by its standard
    deviation over both, squared Euclidean costs divided by their median, the constrained path."""
    a = (a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)).astype(np.float64)
    b = (b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)).astype(np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise GtalignError(f"sequences must be (N, D) and (M, D) with the same D and at least 2 frames, got "
                           f"{describe(a)} and {describe(b)}")
    check_finite("a", a)
    check_finite("b", b)
    both = np.concatenate([a, b])
    scale = both.std(axis=0)
    scale[scale == 0] = 1.0  # a constant value tells nothing; leave it as it is
    mean = both.mean(axis=0)
    cost = sqeuclidean_cost(torch.from_numpy((a - mean) / scale), torch.from_numpy((b - mean) / scale)).numpy()
    return align_costs(cost / max(float(np.median(cost)), 1e-12), fps_a, fps_b, settings)


def align_sequence_files(paths: Sequence[str | Path], fps: float, out_dir: str | Path,
                         settings: PathSettings = PathSettings()) -> dict[str, Any]:
    """Align every sequence file after the first to the first (all at `fps` frames per second, on the path of
    `settings`): for each pair `correspondence.csv` and `alignment.png` (in `out_dir` for two files,
    `out_dir/<index>_<name>/` for more), and `out_dir/summary.json`, which is returned."""
    files = [Path(p) for p in paths]
    arrays = read_sequences(files)
    out = Path(out_dir)
    pairs = []
    for k in range(1, len(files)):
        alignment = sequence_alignment(arrays[0], arrays[k], fps, fps, settings)
        test = sameness_test(alignment.cost)
        folder = out if len(files) == 2 else out / f"{k:02d}_{files[k].stem}"
        names = (files[0].stem, files[k].stem)
        write_csv_and_plot(alignment, folder, names, (fps, fps))
        pairs.append({"a": names[0], "b": names[1], "folder": str(folder), "frames": [len(arrays[0]), len(arrays[k])],
                      "fps": [fps, fps], "span": span_json(alignment, fps, fps),
                      "span_message": span_message(alignment, names, (fps, fps)), "same_process": test.to_json(),
                      "confidence": alignment.overall_confidence, "unsure": unsure_json(alignment)})
        if (dropped := dropped_json(alignment)) is not None:
            pairs[-1]["dropped"] = dropped
    summary = {"reference": files[0].stem, "encoder": "per-frame arrays, each value scaled by its spread",
               "pairs": pairs}
    write_json(out / "summary.json", summary)
    return summary
