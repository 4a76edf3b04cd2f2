"""Preparing a dataset robustly: check every video in a worker pool, report and skip the broken ones.

A corrupt or unreadable video, an empty video, or a label file whose length differs from the frame count is
reported with its path (a logged warning) and skipped; the count of skipped videos is reported at the end.
A dataset in which nothing is readable is an error.
"""
from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from PIL import Image
from tqdm.auto import tqdm

from gtalign.data.labels import check_labels
from gtalign.data.manifest import VideoEntry
from gtalign.data.source import list_frame_files
from gtalign.data.video import VideoInfo, header_frame_count, probe_video
from gtalign.errors import GtalignError

log = logging.getLogger("gtalign.data")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Skipped:
    """A video left out of a dataset, and why."""

    path: str
    reason: str


def parallel_map(fn: Callable[[T], R], items: Sequence[T], workers: int = 2,
                 desc: str | None = None) -> list[R | BaseException]:
    """`fn` over `items` in a thread pool with a progress bar; each result, or the exception it raised, in order.

    Threads suffice: decoding (PyAV, PIL, numpy) releases the GIL. `workers <= 1` runs in this thread.
    """
    results: list[R | BaseException] = [None] * len(items)  # type: ignore[list-item]

    def run(i: int) -> None:
        try:
            results[i] = fn(items[i])
        except Exception as e:  # noqa: BLE001 - a broken input must not stop the others
            results[i] = e

    with tqdm(total=len(items), desc=desc, unit="video", leave=False, disable=not desc) as bar:
        if workers <= 1:
            for i in range(len(items)):
                run(i)
                bar.update()
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for future in as_completed([pool.submit(run, i) for i in range(len(items))]):
                    future.result()
                    bar.update()
    return results


def keep_readable(items: Sequence[T], check: Callable[[T], R], name: Callable[[T], str], what: str,
                  workers: int = 2, desc: str | None = None,
                  already_skipped: Sequence[Skipped] = ()) -> tuple[list[R], list[Skipped]]:
    """Run `check` on every item; keep the results, report and skip the items whose check raised.

    `already_skipped` (found unusable earlier) are reported with them. Raises GtalignError when no item passes
    (`what` names the dataset in the message).
    """
    results = parallel_map(check, items, workers=workers, desc=desc)
    kept: list[R] = []
    skipped: list[Skipped] = list(already_skipped)
    for item, result in zip(items, results):
        if isinstance(result, BaseException):
            skipped.append(Skipped(name(item), str(result) or type(result).__name__))
        else:
            kept.append(result)
    report_skipped(skipped, len(items) + len(already_skipped), len(kept), what)
    return kept, skipped


def report_skipped(skipped: Sequence[Skipped], total: int, kept: int, what: str) -> None:
    """Log each skipped video with its reason and the count; raise GtalignError when nothing was kept."""
    for s in skipped:
        log.warning("skipped %s: %s", s.path, s.reason)
    if skipped:
        log.warning("%s: skipped %d of %d videos (see the warnings above)", what, len(skipped), total)
    if not kept:
        first = f"; first problem: {skipped[0].path}: {skipped[0].reason}" if skipped else ""
        raise GtalignError(f"{what}: no readable videos ({total} found{first})")


def count_frames(path: Path) -> tuple[int, float | None]:
    """(frame count, fps or None) of a frame folder or a video file, decoding enough to know it is readable.

    A frame folder has every image's header read and its first and last image decoded. A video file whose frames
    keep no constant rate is logged (`variable_rate_warning`).
    """
    path = Path(path)
    if path.is_dir():
        files = list_frame_files(path)
        for j, f in enumerate(files):
            try:
                with Image.open(f) as im:
                    if j in (0, len(files) - 1):
                        im.load()
            except (OSError, ValueError, Image.DecompressionBombError) as e:  # truncated, corrupt, not an image
                raise GtalignError(f"frame {f} of {path} cannot be decoded ({e}); replace or remove it") from e
        return len(files), None
    if not path.exists():
        raise GtalignError(f"video not found: {path}")

    info = probe_video(path)
    if info.variable_rate:
        log.warning("%s", variable_rate_warning(path, info))
    return info.num_frames, info.fps


def variable_rate_warning(path: Path, info: VideoInfo) -> str:
    """What a user needs to know about a video whose frames keep no constant rate (`VideoInfo.variable_rate`)."""
    return (f"{path}: a variable frame rate: some frames are shown up to {info.drift_s:.3f} s "
            f"({info.drift_s * info.fps:.1f} frames) away from frame index / {info.fps:.3f} fps. Frames are aligned "
            "by index, so matches are right, but the times in seconds that gtalign writes (and sync's clocks) assume "
            "that constant rate and are off by up to that much; for exact times, re-encode at a constant rate first "
            "(for example: ffmpeg -i IN -fps_mode cfr OUT)")


def truncation_warning(path: Path, decoded: int) -> str | None:
    """The warning for a video file that decodes to clearly fewer frames than its header promises (a truncated
    file), else None. Frame folders have no header and never warn."""
    path = Path(path)
    if path.is_dir():
        return None

    promised = header_frame_count(path)
    if promised and decoded < 0.95 * promised - 1:
        return (f"{path}: its header promises {promised} frames but only {decoded} decode "
                f"(a truncated file?); using those {decoded}")
    return None


def check_entry(entry: VideoEntry) -> VideoEntry:
    """The entry with its true frame count (and fps for video files); raises GtalignError if unusable.

    A video file that decodes to fewer frames than its header promises is used as far as it decodes, with a
    logged warning naming it (`truncation_warning`).
    """
    num_frames, fps = count_frames(entry.path)
    if num_frames == 0:
        raise GtalignError(f"empty video (no frames): {entry.path}")
    short = truncation_warning(Path(entry.path), num_frames)
    if short:
        log.warning("%s", short)
    check_labels(entry.labels, num_frames, f"labels of {entry.path}")
    return dataclasses.replace(entry, num_frames=num_frames, fps=fps if fps else entry.fps)
