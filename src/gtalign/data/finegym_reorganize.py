"""FineGym re-organization (supplement Sec. 3): one prototype order of sets per event type.

Gymnasts perform the sets of an event in any order; alignment needs them in the same order in every video. For
each event-level video:

1. its labelled elements, sorted by start time, are grouped into *set-level clips*: maximal runs of consecutive
   elements of the same set; a clip spans its first element's start to its last element's end;
2. the clips are stably sorted by the rank of their set in the event type's prototype order (clips of a set
   the order does not list go last, in their original order);
3. the clips' frames (sampled at `fps`) are concatenated into the re-organized event-level video, with each
   frame labelled by the element containing it (`background` between elements of a clip).

Rule for the prototype order (when the user gives none): for each event type, every set is placed by its
*mean normalized onset*: over the videos of that type containing the set, the mean of (start of the set's
first clip - event start) / event duration; sets are sorted by this mean, ties by set id. This is the
consensus position of each set in time and is defined even when no video contains all sets.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from gtalign.data.finegym import frame_labels
from gtalign.data.manifest import Manifest, VideoEntry, save_manifest
from gtalign.data.scan import keep_readable
from gtalign.data.video import read_video_segment, write_video
from gtalign.errors import GtalignError
from gtalign.io import atomic_write_text, write_json


@dataclass(frozen=True)
class SetClip:
    """A run of consecutive elements of one set; times in seconds from the event start."""

    set_id: int
    start: float
    end: float
    elements: tuple[dict, ...]


def set_clips(elements: Sequence[dict]) -> list[SetClip]:
    """Group elements (dicts with start, end, label, set) sorted by start into maximal same-set runs."""
    clips: list[SetClip] = []
    for e in sorted(elements, key=lambda e: (e["start"], e["end"])):
        if clips and clips[-1].set_id == e["set"]:
            last = clips[-1]
            clips[-1] = SetClip(last.set_id, last.start, max(last.end, e["end"]), last.elements + (e,))
        else:
            clips.append(SetClip(e["set"], e["start"], e["end"], (e,)))
    return clips


def prototype_orders(entries: Sequence[VideoEntry]) -> dict[str, list[int]]:
    """Event type -> sets sorted by mean normalized onset (see the module docstring)."""
    onsets: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for entry in entries:
        duration = max(entry.meta["end"] - entry.meta["start"], 1e-9)
        first: dict[int, float] = {}
        for clip in set_clips(entry.meta["elements"]):
            first.setdefault(clip.set_id, clip.start)
        for set_id, start in first.items():
            onsets[entry.class_name][set_id].append(start / duration)
    return {event: sorted(sets, key=lambda s: (float(np.mean(sets[s])), s)) for event, sets in onsets.items()}


def reorder_clips(clips: Sequence[SetClip], order: Sequence[int]) -> list[SetClip]:
    """Clips stably sorted by their set's rank in `order`; sets not in `order` go last."""
    rank = {s: i for i, s in enumerate(order)}
    return sorted(clips, key=lambda c: rank.get(c.set_id, len(rank)))


def clip_frames(entry: VideoEntry, clip: SetClip, background: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames uint8 (n, H, W, 3) and labels int64 (n,) of one clip sampled at entry.fps."""
    t0 = entry.meta["start"]
    frames = read_video_segment(entry.path, t0 + clip.start, t0 + max(clip.end, clip.start + 1.0 / entry.fps),
                                fps=entry.fps)
    labels = frame_labels(list(clip.elements), len(frames), entry.fps, offset=clip.start, background=background)
    return frames, labels


@dataclass
class _Job:
    entry: VideoEntry
    order: list[int]
    out_dir: Path
    background: int


def _reorganize_one(job: _Job) -> VideoEntry:
    clips = reorder_clips(set_clips(job.entry.meta["elements"]), job.order)
    parts = [clip_frames(job.entry, c, job.background) for c in clips]
    frames = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    path = write_video(job.out_dir / "videos" / f"{job.entry.id}.mp4", frames, fps=job.entry.fps)
    atomic_write_text(path.with_name(f"{job.entry.id}.labels.txt"), " ".join(map(str, labels.tolist())) + "\n")
    meta = dict(job.entry.meta, set_order=list(job.order),
                clips=[{"set": c.set_id, "start": c.start, "end": c.end} for c in clips])
    return dataclasses.replace(job.entry, path=path.resolve(), num_frames=len(frames), labels=labels, meta=meta)


def reorganize(source, out_dir: str | Path, orders: Mapping[str, Sequence[int]] | None = None,
               background: int = -1, workers: int = 2) -> Path:
    """Write re-organized event-level videos (mp4 + `.labels.txt`) and a manifest to `out_dir`.

    `source` is a FineGym source (or any source whose entries carry FineGym event meta); `orders` overrides the
    prototype order per event type (e.g. {"FX": [21, 22, 24, 25]}). Returns the manifest path.
    """
    entries = list(source.entries)
    missing = [e.id for e in entries if "elements" not in e.meta or "start" not in e.meta]
    if missing:
        raise GtalignError(f"reorganize needs FineGym event entries (meta with start and elements); "
                           f"{len(missing)} entries lack them, e.g. {missing[:3]}")
    chosen = prototype_orders(entries)
    for event, order in (orders or {}).items():
        if event not in chosen:
            raise GtalignError(f"orders: event type {event!r} is not in the dataset ({sorted(chosen)})")
        chosen[event] = [int(s) for s in order]
    out_dir = Path(out_dir)
    jobs = [_Job(e, chosen[e.class_name], out_dir, background) for e in entries]
    write_json(out_dir / "prototype_orders.json", chosen)
    done, _ = keep_readable(jobs, _reorganize_one, lambda j: f"{j.entry.path} (event {j.entry.id})",
                                  "FineGym re-organization", workers=workers, desc="re-organizing FineGym")
    manifest = Manifest(name=f"{source.manifest.name}-reorganized", videos=done, classes=source.classes,
                        label_names=source.manifest.label_names, root=out_dir.resolve())
    return save_manifest(manifest, out_dir / "manifest.json")
