"""FineGym over the user's local copies of its YouTube videos: event-level videos with per-frame element labels.

Files of the FineGym release (https://sdolivia.github.io/FineGym/) in one folder:

- `finegym_annotation_info_v1.0.json` / `_v1.1.json`:
  `{youtube_id: {"E_<start>_<end>": {"event": int, "timestamps": [[s, e]],
                 "segments": {"A_<s>_<e>": {"stages": int, "timestamps": [[s, e], ...]}}}}}`.
  Event timestamps are seconds in the YouTube video; segment (element) timestamps are seconds from the event
  start, one [s, e] per stage (vaults have several), the element spanning the first start to the last end.
  Event ids: 1 VT (vault), 2 FX (floor exercise), 3 BB (balance beam), 4 UB (uneven bars), matching the
  tens digit of the set ids (1, 21-25, 31-35, 41-44) in the category files.
- `gym99_categories.txt` / `gym288_categories.txt`: lines `Clabel: 0; set: 1; Glabel: 1; (VT) <name>`.
- `gym99_train_element_v1.1.txt`, `gym99_val_element.txt` (or gym288_...): lines
  `<youtube_id>_E_<...>_A_<...> <Clabel>`; they give each element its label and each event its split.
- Videos: `<youtube_id>.mp4` (or .mkv/.webm/...) in a folder (default `<root>/videos`).

One entry per event that has at least one labelled element: frames are sampled at a fixed `fps` from the event's
span; a frame's label is the Clabel of the element containing it, `background` (default -1) elsewhere.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from gtalign.data.indices import checked_indices
from gtalign.data.manifest import Manifest, VideoEntry
from gtalign.data.scan import Skipped, keep_readable
from gtalign.data.source import VideoSource, register_source
from gtalign.data.video import VIDEO_SUFFIXES, read_video_segment, video_duration
from gtalign.errors import GtalignError
from gtalign.io import read_json
from gtalign.registry import check_choice, choices

EVENT_TYPES = {1: "VT", 2: "FX", 3: "BB", 4: "UB"}
LabelSet = Literal["gym99", "gym288"]
LABEL_SETS: tuple[str, ...] = choices(LabelSet)


@dataclass(frozen=True)
class Category:
    """One element class of a FineGym label set."""

    clabel: int
    set_id: int
    glabel: int
    event: str
    name: str


_CATEGORY = re.compile(r"Clabel:\s*(\d+);\s*set:\s*(\d+);\s*Glabel:\s*(\d+);\s*\((\w+)\)\s*(.*)")


def read_categories(path: str | Path) -> dict[int, Category]:
    """Clabel -> Category from a gym99/gym288 category file."""
    path = Path(path)
    if not path.is_file():
        raise GtalignError(f"FineGym category file not found: {path}")
    out: dict[int, Category] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = _CATEGORY.match(line.strip())
        if m is None:
            raise GtalignError(f"{path}:{n}: expected 'Clabel: N; set: N; Glabel: N; (EVENT) name', got {line!r}")
        c = Category(int(m[1]), int(m[2]), int(m[3]), m[4], m[5].strip())
        out[c.clabel] = c
    return out


def read_element_labels(path: str | Path) -> dict[str, int]:
    """`<youtube_id>_E_..._A_...` -> Clabel from a gym99/gym288 train/val element file."""
    path = Path(path)
    out: dict[str, int] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit() or "_A_" not in parts[0]:
            raise GtalignError(f"{path}:{n}: expected '<youtube_id>_E_..._A_... <label>', got {line!r}")
        out[parts[0]] = int(parts[1])
    return out


@dataclass(frozen=True)
class Element:
    """An annotated element (sub-action) of an event; times in seconds from the event start."""

    id: str
    start: float
    end: float
    label: int
    set_id: int

    def to_json(self) -> dict:
        return {"id": self.id, "start": self.start, "end": self.end, "label": self.label, "set": self.set_id}


def _span(timestamps, where: str) -> tuple[float, float]:
    arr = np.asarray(timestamps, dtype=np.float64).reshape(-1, 2) if timestamps else np.zeros((0, 2))
    if arr.size == 0 or not np.all(arr[:, 1] >= arr[:, 0]):
        raise GtalignError(f"{where}: expected timestamps [[start, end], ...] with end >= start, got {timestamps!r}")
    return float(arr[:, 0].min()), float(arr[:, 1].max())


def _find_file(root: Path, patterns: list[str], what: str) -> Path:
    for pattern in patterns:
        hits = sorted(root.glob(pattern))
        if hits:
            return hits[-1]  # the newest version (v1.1 sorts after v1.0)
    raise GtalignError(f"FineGym {what} not found in {root} (looked for {', '.join(patterns)})")


def _find_video(videos: Path, youtube_id: str) -> Path | None:
    for suffix in VIDEO_SUFFIXES:
        candidate = videos / f"{youtube_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def event_entries(annotations: dict, element_labels: dict[str, tuple[int, str]], categories: dict[int, Category],
                  videos: Path, fps: float) -> tuple[list[VideoEntry], list[Skipped]]:
    """One VideoEntry per annotated event with labelled elements (labels filled in later by `_checked`).

    element_labels: full element id -> (Clabel, split). Missing videos are returned as skipped.
    """
    entries: list[VideoEntry] = []
    skipped: list[Skipped] = []
    for youtube_id, events in sorted(annotations.items()):
        if not isinstance(events, dict):
            raise GtalignError(f"FineGym annotations: {youtube_id!r} should map event ids to events")
        video = _find_video(videos, youtube_id)
        for event_id, event in sorted(events.items()):
            key = f"{youtube_id}_{event_id}"
            elements, splits = [], set()
            for seg_id, seg in sorted((event.get("segments") or {}).items()):
                labelled = element_labels.get(f"{key}_{seg_id}")
                if labelled is None or labelled[0] not in categories:
                    continue
                start, end = _span(seg.get("timestamps"), f"{key}_{seg_id}")
                elements.append(Element(seg_id, start, end, labelled[0], categories[labelled[0]].set_id))
                splits.add(labelled[1])
            if not elements:
                continue
            if video is None:
                skipped.append(Skipped(str(videos / f"{youtube_id}.mp4"), f"video of event {key} not found"))
                continue
            start, end = _span(event.get("timestamps"), key)
            event_type = EVENT_TYPES.get(int(event.get("event", 0)))
            if event_type is None:
                raise GtalignError(f"FineGym annotations: event {key} has event id {event.get('event')!r}, "
                                   f"expected one of {sorted(EVENT_TYPES)}")
            entries.append(VideoEntry(
                id=key, path=video, class_name=event_type, split="val" if "val" in splits else "train",
                num_frames=max(1, math.ceil((end - start) * fps - 1e-9)), fps=fps,
                meta={"youtube_id": youtube_id, "event_id": event_id, "start": start, "end": end,
                      "elements": [e.to_json() for e in sorted(elements, key=lambda e: e.start)]}))
    return entries, skipped


def frame_labels(elements: list[dict], num_frames: int, fps: float, offset: float = 0.0,
                 background: int = -1) -> np.ndarray:
    """Per-frame labels (num_frames,): frame k (time offset + k / fps) gets the label of the element containing it."""
    times = offset + np.arange(num_frames) / fps
    labels = np.full(num_frames, background, dtype=np.int64)
    for e in elements:
        labels[(times >= e["start"]) & (times < e["end"])] = e["label"]
    return labels


def _checked(entry: VideoEntry) -> VideoEntry:
    duration = video_duration(entry.path)
    if duration and entry.meta["end"] > duration + 1.0:
        raise GtalignError(f"{entry.path} lasts {duration:.1f} s but event {entry.id} ends at "
                           f"{entry.meta['end']:.1f} s (wrong or truncated download?)")
    return entry


class FineGymSource(VideoSource):
    """Event-level FineGym videos read from the full YouTube videos (decode one event per `read_frames`)."""

    def read_frames(self, i: int, indices: np.ndarray | None = None) -> np.ndarray:
        entry = self.entries[i]
        frames = read_video_segment(entry.path, entry.meta["start"], entry.meta["end"], fps=entry.fps)
        frames = frames[: entry.num_frames]
        if len(frames) < entry.num_frames:  # the video ends early: repeat the last frame
            frames = np.concatenate([frames, np.repeat(frames[-1:], entry.num_frames - len(frames), axis=0)])
        return frames if indices is None else frames[checked_indices(indices, entry.num_frames, entry.id)]


def _is_finegym(path: Path) -> bool:
    return path.is_dir() and any(path.glob("finegym_annotation_info*.json"))


def load_labels(root: Path, label_set: str) -> tuple[dict[int, Category], dict[str, tuple[int, str]]]:
    """The categories of `label_set` and element id -> (Clabel, split) from its train/val element files."""
    check_choice("label_set", label_set, LABEL_SETS)
    categories = read_categories(_find_file(root, [f"{label_set}_categories.txt"], f"{label_set} categories"))
    labels: dict[str, tuple[int, str]] = {}
    for split in ("train", "val"):
        path = _find_file(root, [f"{label_set}_{split}_element*.txt"], f"{label_set} {split} element list")
        labels.update((k, (v, split)) for k, v in read_element_labels(path).items())
    return categories, labels


@register_source("finegym", detect=_is_finegym)
def open_finegym(path: Path, split: str | None = None, videos: str | Path | None = None,
                 label_set: str = "gym99", fps: float = 25.0, background: int = -1,
                 workers: int = 2, progress: bool = True) -> FineGymSource:
    """FineGym annotations in folder `path`, videos in `videos` (default `path/videos`), event-level entries."""
    root = Path(path).resolve()
    videos = Path(videos) if videos is not None else root / "videos"
    if not videos.is_dir():
        raise GtalignError(f"FineGym video folder not found: {videos} (pass videos= the folder of "
                           f"<youtube_id>.mp4 files)")
    if not fps > 0:
        raise GtalignError(f"fps must be > 0, got {fps}")
    annotations = read_json(_find_file(root, ["finegym_annotation_info_v*.json", "finegym_annotation_info*.json"],
                                       "annotation JSON"), "FineGym annotations")
    if not isinstance(annotations, dict):
        raise GtalignError("FineGym annotations: expected an object mapping YouTube ids to events")
    categories, element_labels = load_labels(root, label_set)
    candidates, missing = event_entries(annotations, element_labels, categories, videos, fps)
    candidates = [e for e in candidates if split is None or e.split == split]
    entries, skipped = keep_readable(candidates, _checked, lambda e: f"{e.path} (event {e.id})",
                                     f"FineGym {root}", workers=workers,
                                     desc="checking FineGym videos" if progress else None,
                                     already_skipped=missing)
    for e in entries:
        e.labels = frame_labels(e.meta["elements"], e.num_frames, e.fps, background=background)
    names = {c.clabel: f"({c.event}) {c.name}" for c in categories.values()}
    element_names = [names.get(i, "") for i in range(max(names) + 1)]
    classes = [t for t in EVENT_TYPES.values() if t in {e.class_name for e in entries}]
    manifest = Manifest(name=f"finegym-{label_set}", videos=entries, classes=classes, root=root,
                        label_names={t: element_names for t in classes})
    return FineGymSource(manifest, skipped)
