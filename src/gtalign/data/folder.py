"""A folder of videos: video files (mp4/avi/mov/webm/mkv) and/or frame folders (jpg/png), any mix.

Layout (every level optional):

    root/[train|val|test/][<class>/]<video>.mp4           a video file
    root/[train|val|test/][<class>/]<video>/000001.jpg    a frame folder (frames sorted by name)
    root/.../<video>.labels.txt|.npy|.csv                 optional per-frame labels (see gtalign.data.labels)

A folder that directly holds images is one video; any other folder is a class (its name is the class name),
except top-level `train`/`val`/`test` folders, which give the split (default `train`).
Opening decodes every video once to count its frames; convert the folder to a manifest to do that only once.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from gtalign.data.labels import label_file_for, read_label_file
from gtalign.data.manifest import SPLITS, Manifest, VideoEntry
from gtalign.data.scan import check_entry, keep_readable
from gtalign.data.source import IMAGE_SUFFIXES, VideoSource, register_source
from gtalign.data.video import VIDEO_SUFFIXES, is_video_file
from gtalign.errors import GtalignError


def _holds_images(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() for p in folder.iterdir())


def _videos_in(folder: Path, class_name: str, split: str, root: Path) -> list[VideoEntry]:
    """Video files and frame folders under `folder`; sub-folders that are not frame folders are classes."""
    found: list[VideoEntry] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if is_video_file(p) or (p.is_dir() and _holds_images(p)):
            rel = p.relative_to(root)
            vid = "_".join(rel.with_suffix("").parts) if p.is_file() else "_".join(rel.parts)
            found.append(VideoEntry(id=vid, path=p, class_name=class_name, split=split))
        elif p.is_dir():
            found.extend(_videos_in(p, p.name, split, root))
    return found


def find_videos(root: Path) -> list[VideoEntry]:
    """Every video under `root` with its class and split (frame counts not yet known)."""
    root = Path(root)
    if not root.is_dir():
        raise GtalignError(f"video folder not found or not a folder: {root}")
    split_dirs = [root / s for s in SPLITS if (root / s).is_dir()]
    if split_dirs:
        entries = [e for d in split_dirs for e in _videos_in(d, "", d.name, root)]
    else:
        entries = _videos_in(root, "", "train", root)
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise GtalignError(f"video folder {root}: two videos map to the same id {dup}; rename one of them")
    return entries


def _with_labels(entry: VideoEntry) -> VideoEntry:
    label_file = label_file_for(entry.path)
    if label_file is not None:
        entry = dataclasses.replace(entry, labels=read_label_file(label_file))
    return check_entry(entry)


def _looks_like_video_folder(path: Path, depth: int = 3) -> bool:
    if not path.is_dir() or depth < 0:
        return False
    for p in path.iterdir():
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES:
            return True
        if p.is_dir() and not p.name.startswith(".") and _looks_like_video_folder(p, depth - 1):
            return True
    return False


@register_source("folder", detect=_looks_like_video_folder, catch_all=True)
def open_folder(path: Path, split: str | None = None, workers: int = 2, progress: bool = True) -> VideoSource:
    """A folder of video files and/or frame folders, with optional per-frame label files."""
    path = Path(path).resolve()
    candidates = [e for e in find_videos(path) if split is None or e.split == split]
    if not candidates:
        raise GtalignError(f"video folder {path} holds no videos ({', '.join(VIDEO_SUFFIXES)} files or folders "
                           f"of {', '.join(IMAGE_SUFFIXES)} images){'' if split is None else f' in split {split!r}'}")
    entries, skipped = keep_readable(candidates, _with_labels, lambda e: str(e.path), f"video folder {path}",
                                     workers=workers, desc=f"checking videos in {path.name}" if progress else None)
    classes = sorted({e.class_name for e in entries})
    return VideoSource(Manifest(name=path.name, videos=entries, classes=classes, root=path), skipped)
