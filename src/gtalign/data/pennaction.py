"""PennAction in its released layout, with per-frame phase labels from a file the user gives.

    root/frames/0001/000001.jpg ...     frames of video 0001
    root/labels/0001.mat                fields action, pose, x, y, visibility, train (1 = train, -1 = test),
                                        bbox, dimensions, nframes
    phases (optional, see `read_phases`): the per-frame phase annotations used by TCC/LAV/CARL

Videos with `train == 1` form the `train` split, the others `val` (the alignment literature evaluates on them).
By default the 13 actions used for alignment are kept (`jump_rope` and `strum_guitar` have no phases).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.io

from gtalign.data.labels import LABEL_SUFFIXES, read_label_file
from gtalign.data.manifest import Manifest, VideoEntry
from gtalign.data.scan import Skipped, check_entry, keep_readable
from gtalign.data.source import VideoSource, register_source
from gtalign.errors import GtalignError
from gtalign.io import read_json

ALL_ACTIONS = ("baseball_pitch", "baseball_swing", "bench_press", "bowl", "clean_and_jerk", "golf_swing",
               "jump_rope", "jumping_jacks", "pullup", "pushup", "situp", "squat", "strum_guitar",
               "tennis_forehand", "tennis_serve")
ALIGNMENT_ACTIONS = tuple(a for a in ALL_ACTIONS if a not in ("jump_rope", "strum_guitar"))


def _scalar(value: np.ndarray, what: str, path: Path):
    arr = np.asarray(value).reshape(-1)
    if arr.size != 1:
        raise GtalignError(f"{path}: field {what!r} should hold one value, got shape {np.shape(value)}")
    return arr[0]


def read_label_mat(path: str | Path) -> dict[str, object]:
    """The per-video fields of a PennAction labels/NNNN.mat: action (str), train (bool), nframes (int), pose (str)."""
    path = Path(path)
    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as e:  # noqa: BLE001 - scipy raises several kinds for broken files
        raise GtalignError(f"cannot read PennAction label file {path}: {e}") from e
    missing = [k for k in ("action", "train", "nframes") if k not in mat]
    if missing:
        raise GtalignError(f"PennAction label file {path} lacks field(s) {missing}")
    return {"action": str(_scalar(mat["action"], "action", path)).strip(),
            "train": int(_scalar(mat["train"], "train", path)) == 1,
            "nframes": int(_scalar(mat["nframes"], "nframes", path)),
            "pose": str(_scalar(mat["pose"], "pose", path)).strip() if "pose" in mat else ""}


def read_phases(path: str | Path) -> dict[str, np.ndarray]:
    """Per-frame phase labels by video id from either

    - a folder of per-video files `0001.txt` / `0001.npy` / `0001.csv` (formats of gtalign.data.labels), or
    - a JSON file `{"0001": [0, 0, 1, 1, 2, ...], ...}`.
    Ids are the 4-digit PennAction video numbers (`1` and `0001` are the same video).
    """
    path = Path(path)
    if path.is_dir():
        files = [p for p in sorted(path.iterdir()) if p.suffix.lower() in LABEL_SUFFIXES]
        return {_video_id(p.stem): read_label_file(p) for p in files}
    data = read_json(path, "PennAction phase file")
    if not isinstance(data, dict):
        raise GtalignError(f"PennAction phase file {path}: expected an object mapping video id -> list of ints, "
                           f"got {type(data).__name__}")
    return {_video_id(k): np.asarray(v, dtype=np.int64) for k, v in data.items()}


def _video_id(name: str) -> str:
    return name.zfill(4) if name.isdigit() else name


def _is_pennaction(path: Path) -> bool:
    return path.is_dir() and (path / "frames").is_dir() and (path / "labels").is_dir()


def _checked(entry: VideoEntry) -> VideoEntry:
    checked = check_entry(entry)
    declared = entry.meta.get("nframes")
    if declared is not None and declared != checked.num_frames:
        raise GtalignError(f"{entry.path}: labels .mat says nframes={declared} but the folder holds "
                           f"{checked.num_frames} frames")
    return checked


@register_source("pennaction", detect=_is_pennaction)
def open_pennaction(path: Path, split: str | None = None, phases: str | Path | None = None,
                    actions: Sequence[str] | str = ALIGNMENT_ACTIONS, workers: int = 2,
                    progress: bool = True) -> VideoSource:
    """PennAction at `path`; `phases` a phase folder/JSON (default `path/phases` if present);
    `actions` the actions kept ("all" for all 15)."""
    root = Path(path).resolve()
    keep = set(ALL_ACTIONS if actions == "all" else actions)
    unknown = keep - set(ALL_ACTIONS)
    if unknown:
        raise GtalignError(f"actions must be 'all' or names from {ALL_ACTIONS}, got unknown {sorted(unknown)}")
    if phases is None and (root / "phases").exists():
        phases = root / "phases"
    phase_map = read_phases(phases) if phases is not None else {}
    candidates: list[VideoEntry] = []
    skipped: list[Skipped] = []
    for mat_path in sorted((root / "labels").glob("*.mat")):
        try:
            fields = read_label_mat(mat_path)
        except GtalignError as e:
            skipped.append(Skipped(str(mat_path), str(e)))
            continue
        if fields["action"] not in keep or (split is not None and split != ("train" if fields["train"] else "val")):
            continue
        vid = mat_path.stem
        candidates.append(VideoEntry(id=vid, path=root / "frames" / vid, class_name=str(fields["action"]),
                                     split="train" if fields["train"] else "val", labels=phase_map.get(vid),
                                     meta={"pose": fields["pose"], "nframes": fields["nframes"]}))
    if not candidates and not skipped:
        raise GtalignError(f"PennAction {root}: no videos of actions {sorted(keep)} in {root / 'labels'}"
                           f"{'' if split is None else f' for split {split!r}'}")
    entries, skipped = keep_readable(candidates, _checked, lambda e: str(e.path), f"PennAction {root}",
                                     workers=workers, desc="checking PennAction" if progress else None,
                                     already_skipped=skipped)
    entries = [dataclasses.replace(e, meta={"pose": e.meta["pose"]}) for e in entries]
    classes = [a for a in ALL_ACTIONS if a in {e.class_name for e in entries}]
    return VideoSource(Manifest(name="pennaction", videos=entries, classes=classes, root=root), skipped)
