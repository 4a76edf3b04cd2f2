"""gtalign's own dataset manifest: one JSON file listing videos, classes, splits and per-frame labels.

Every dataset source can be converted into this format (see docs/architecture.md for an example).
Paths inside the manifest are relative to the manifest's folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gtalign.errors import GtalignError
from gtalign.io import read_json, write_json
from gtalign.registry import choices

FORMAT = "gtalign-manifest"
VERSION = 1
Split = Literal["train", "val", "test"]
SPLITS: tuple[str, ...] = choices(Split)


@dataclass
class VideoEntry:
    """One video: where it is, what it shows and, optionally, its per-frame labels.

    `path` is absolute once loaded (a frame folder or a video file); `labels` has shape (num_frames,).
    """

    id: str
    path: Path
    class_name: str = ""
    split: str = "train"
    num_frames: int = 0
    fps: float = 30.0
    labels: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self, root: Path) -> dict[str, Any]:
        path = Path(self.path)
        try:
            rel = path.relative_to(root)
        except ValueError:
            rel = path
        out: dict[str, Any] = {"id": self.id, "path": rel.as_posix(), "class": self.class_name, "split": self.split,
                               "num_frames": int(self.num_frames), "fps": float(self.fps)}
        if self.labels is not None:
            out["labels"] = [int(x) for x in self.labels]
        if self.meta:
            out["meta"] = self.meta
        return out


@dataclass
class Manifest:
    """A dataset: its videos, class names and, per class, the names of its label values."""

    name: str
    videos: list[VideoEntry]
    classes: list[str] = field(default_factory=list)
    label_names: dict[str, list[str]] = field(default_factory=dict)
    root: Path = Path(".")

    def split(self, split: str | None) -> "Manifest":
        """The manifest restricted to one split (None keeps all)."""
        if split is None:
            return self
        if split not in SPLITS:
            raise GtalignError(f"split must be one of {SPLITS} or None, got {split!r}")
        return Manifest(self.name, [v for v in self.videos if v.split == split], self.classes, self.label_names,
                        self.root)


def _entry_from_json(item: Any, root: Path, where: str) -> VideoEntry:
    if not isinstance(item, dict):
        raise GtalignError(f"{where}: expected an object, got {type(item).__name__}")
    for key in ("id", "path"):
        if key not in item:
            raise GtalignError(f"{where}: missing required key {key!r}")
    split = item.get("split", "train")
    if split not in SPLITS:
        raise GtalignError(f"{where}: split must be one of {SPLITS}, got {split!r}")
    num_frames = int(item.get("num_frames", 0))
    labels = item.get("labels")
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.ndim != 1 or (num_frames and len(labels) != num_frames):
            raise GtalignError(f"{where}: labels has {labels.size} values but num_frames is {num_frames}")
    path = Path(item["path"])
    return VideoEntry(id=str(item["id"]), path=path if path.is_absolute() else root / path,
                      class_name=str(item.get("class", "")), split=split, num_frames=num_frames,
                      fps=float(item.get("fps", 30.0)), labels=labels, meta=dict(item.get("meta", {})))


def load_manifest(path: str | Path) -> Manifest:
    """Read a manifest JSON file; paths become absolute (relative to the file's folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    data = read_json(path, "manifest")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GtalignError(f"{path} is not a gtalign manifest (expected \"format\": \"{FORMAT}\")")
    if int(data.get("version", 0)) > VERSION:
        raise GtalignError(f"{path} has manifest version {data.get('version')}; this gtalign reads up to {VERSION}")
    root = path.parent.resolve()
    videos = [_entry_from_json(v, root, f"{path}: videos[{i}]") for i, v in enumerate(data.get("videos", []))]
    ids = [v.id for v in videos]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise GtalignError(f"{path}: duplicate video ids {dup}")
    classes = list(data.get("classes") or sorted({v.class_name for v in videos}))
    return Manifest(name=str(data.get("name", path.parent.name)), videos=videos, classes=classes,
                    label_names={k: list(v) for k, v in (data.get("label_names") or {}).items()}, root=root)


def save_manifest(manifest: Manifest, path: str | Path) -> Path:
    """Write a manifest atomically; video paths are stored relative to the file's folder when possible."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / "manifest.json"
    root = path.parent.resolve()
    write_json(path, {
        "format": FORMAT, "version": VERSION, "name": manifest.name,
        "classes": list(manifest.classes), "label_names": manifest.label_names,
        "videos": [v.to_json(root) for v in manifest.videos],
    })
    return path
