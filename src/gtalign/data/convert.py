"""Convert any video source into gtalign's manifest format (`gtalign data convert`).

Two ways to store the videos next to the written `manifest.json`:
- `link`: `videos/<id><suffix>` is a symbolic link to the original video file or frame folder (no copy, no
  decode; only for sources whose videos are plain files: folders, manifests, PennAction);
- `frames`: every frame is decoded and written as `frames/<id>/000000.jpg ...` (optionally resized so that the
  short side is `size`); needed for TFRecords and FineGym events, whose videos are not files of their own.
`auto` links when it can and writes frames otherwise.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from PIL import Image

from gtalign.data.manifest import Manifest, VideoEntry, save_manifest
from gtalign.data.scan import keep_readable
from gtalign.data.source import VideoSource
from gtalign.data.video import resize_short_side
from gtalign.errors import GtalignError
from gtalign.registry import check_choice, choices

ConvertMode = Literal["auto", "link", "frames"]
MODES: tuple[str, ...] = choices(ConvertMode)


def can_link(source: VideoSource) -> bool:
    """Whether the source's videos are files read as they are (its class keeps the default reader)."""
    return type(source).read_frames is VideoSource.read_frames


def write_frame_folder(folder: Path, frames, quality: int = 95) -> None:
    """Write uint8 frames (n, H, W, 3) as `000000.jpg ...` into `folder`, atomically (temp folder, then rename)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for j, frame in enumerate(frames):
            Image.fromarray(frame).save(tmp / f"{j:06d}.jpg", quality=quality)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _link(entry: VideoEntry, out_dir: Path) -> VideoEntry:
    target = Path(entry.path).resolve()
    if not target.exists():
        raise GtalignError(f"video not found: {target}")
    link = out_dir / "videos" / f"{entry.id}{'' if target.is_dir() else target.suffix.lower()}"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())
    return dataclasses.replace(entry, path=link)


def convert(source: VideoSource, out_dir: str | Path, mode: str = "auto", size: int | None = None,
            name: str | None = None, workers: int = 2) -> Path:
    """Write `out_dir/manifest.json` (and links or frames) for every readable video of `source`.

    Returns the manifest path. Videos that fail to decode are reported and skipped.
    """
    check_choice("mode", mode, MODES)
    if mode == "link" and not can_link(source):
        raise GtalignError(f"{type(source).__name__} videos are not plain files and cannot be linked; "
                           f"use mode='frames'")
    if mode == "link" and size is not None:
        raise GtalignError("size (resizing) needs mode='frames'; links keep the original videos")
    out_dir = Path(out_dir).resolve()
    linking = mode == "link" or (mode == "auto" and can_link(source) and size is None)

    def one(i: int) -> VideoEntry:
        entry = source.entries[i]
        if linking:
            return _link(entry, out_dir)
        frames = resize_short_side(source.read_frames(i), size)
        folder = out_dir / "frames" / entry.id
        write_frame_folder(folder, frames)
        meta = {k: v for k, v in entry.meta.items() if k != "tfrecord_offset"}
        return dataclasses.replace(entry, path=folder, num_frames=len(frames), meta=meta)

    entries, _ = keep_readable(list(range(len(source))), one, lambda i: str(source.entries[i].path),
                               f"converting {source.manifest.name}", workers=workers,
                               desc="linking videos" if linking else "writing frames")
    manifest = Manifest(name=name or source.manifest.name, videos=entries, classes=list(source.classes),
                        label_names=dict(source.manifest.label_names), root=out_dir)
    return save_manifest(manifest, out_dir / "manifest.json")
