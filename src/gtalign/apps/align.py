"""`gtalign align`: align videos to the first one and write what a person looks at.

Per aligned pair (A = the first video, B = another) in its folder: `correspondence.csv` (one row per frame of A:
its frame and time, B's aligned frame and time, the frame cost), `alignment.png` (cost matrix and path),
`side_by_side.mp4` (B re-timed to A), `viewer.html` with its two videos, and in the top folder `summary.json`
(matched spans, costs and the same-process test of every pair).
"""
from __future__ import annotations

import csv
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm

from gtalign.apps.alignment import (
    Alignment,
    PathSettings,
    align_costs,
    align_embeddings,
    cycle_frames,
    embedding_alignment,
)
from gtalign.apps.contextual import contextual_cost
from gtalign.apps.display import DisplayFrames, display_frames, display_taps
from gtalign.apps.encoders import FrameEncoder, encode_all
from gtalign.apps.features import FeatureExtractor, VideoFeatures, pairings, stream_costs
from gtalign.apps.sameness import DEFAULT_MIN_Z, SamenessTest, sameness_test
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.io import atomic_write_text, write_json
from gtalign.viz.alignment import plot_alignment
from gtalign.viz.video import write_browser_video, write_side_by_side
from gtalign.viz.viewer import viewer_data, write_viewer

CSV_COLUMNS = ("frame_a", "time_a_s", "frame_b", "time_b_s", "cost")
#: With feature streams (`--features`): B's sub-frame position, whether A's frame has a counterpart, and the
#: probability that the position is within 3 frames of the truth (`apps.confidence`).
CSV_EXTRA = ("position_b", "matched", "confidence")


@dataclass
class PairResult:
    """The alignment of video `index` (B) to the first video (A) and where its files are."""

    index: int
    alignment: Alignment
    test: SamenessTest
    folder: Path


def correspondence_csv(alignment: Alignment, fps_a: float, fps_b: float) -> str:
    """The CSV text: a header and one row per frame of A (B's time is fractional for soft alignments)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    matched, confidence = alignment.matched, alignment.confidence
    extra = matched is not None and confidence is not None
    writer.writerow(CSV_COLUMNS + (CSV_EXTRA if extra else ()))
    for i, (j, pos, c) in enumerate(zip(alignment.frame_b, alignment.b_of_a, alignment.frame_cost)):
        row = [i, f"{i / fps_a:.6f}", int(j), f"{pos / fps_b:.6f}", f"{c:.6f}"]
        if matched is not None and confidence is not None:
            row += [f"{pos:.3f}", f"{matched[i]:.3f}", f"{confidence[i]:.3f}"]
        writer.writerow(row)
    return out.getvalue()


def span_json(alignment: Alignment, fps_a: float, fps_b: float) -> dict[str, Any]:
    (a0, a1), (b0, b1) = alignment.span
    n, m = alignment.cost.shape
    return {"a_frames": [a0, a1], "b_frames": [b0, b1],
            "a_seconds": [a0 / fps_a, (a1 + 1) / fps_a], "b_seconds": [b0 / fps_b, (b1 + 1) / fps_b],
            "a_extra_frames": [a0, n - 1 - a1], "b_extra_frames": [b0, m - 1 - b1]}


def stretches(frames: np.ndarray) -> list[list[int]]:
    """Sorted frame indices as runs of consecutive frames: [[first, last], ...]."""
    frames = np.asarray(frames, dtype=np.int64)
    if frames.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) > 1)
    firsts, lasts = np.r_[frames[0], frames[breaks + 1]], np.r_[frames[breaks], frames[-1]]
    return [[int(a), int(b)] for a, b in zip(firsts, lasts)]


def dropped_json(alignment: Alignment) -> dict[str, Any] | None:
    """The frames Drop-DTW dropped (`PathSettings.drop`): counts and stretches of A and of B; None otherwise."""
    if alignment.dropped is None:
        return None
    a, b = alignment.dropped
    return {"a_frames": int(len(a)), "b_frames": int(len(b)), "a_stretches": stretches(a),
            "b_stretches": stretches(b)}


#: A matched frame whose calibrated confidence is below this is "unsure" (`unsure_json`): more likely than not more
#: than 3 frames off.
UNSURE_CONFIDENCE = 0.5


def unsure_frames(alignment: Alignment) -> np.ndarray | None:
    """(N,) bool: the matched frames of A (probability > 0.5) whose confidence is below `UNSURE_CONFIDENCE`; None
    without a calibrated confidence (as `Alignment.overall_confidence`)."""
    calibrated = alignment.calibrated
    if calibrated is None:
        return None
    confidence, matched = calibrated
    return (matched > 0.5) & (confidence < UNSURE_CONFIDENCE)


def unsure_json(alignment: Alignment) -> dict[str, Any] | None:
    """`unsure_frames` as their count and stretches [[first, last], ...]; None without a calibrated confidence."""
    unsure = unsure_frames(alignment)
    if unsure is None:
        return None
    frames = np.flatnonzero(unsure)
    return {"frames": int(len(frames)), "stretches": stretches(frames), "below": UNSURE_CONFIDENCE}


def span_message(alignment: Alignment, names: tuple[str, str], fps: tuple[float, float]) -> str:
    """A sentence on the matched span, naming leading/trailing content that only one video has."""
    (a0, a1), (b0, b1) = alignment.span
    n, m = alignment.cost.shape
    text = (f"matched span: {names[0]} frames {a0}-{a1} ({a0 / fps[0]:.2f}-{(a1 + 1) / fps[0]:.2f} s) with "
            f"{names[1]} frames {b0}-{b1} ({b0 / fps[1]:.2f}-{(b1 + 1) / fps[1]:.2f} s)")
    extra = [f"{name} has {k} extra frame(s) at its {where}" for name, k, where in
             ((names[0], a0, "start"), (names[0], n - 1 - a1, "end"), (names[1], b0, "start"),
              (names[1], m - 1 - b1, "end")) if k > 0]
    return text + ("; " + ", ".join(extra) if extra else "")


def write_csv_and_plot(alignment: Alignment, folder: Path, names: tuple[str, str], fps: tuple[float, float]) -> None:
    """`correspondence.csv` and `alignment.png` (the cost matrix and the path) of B aligned to A into `folder`."""
    atomic_write_text(folder / "correspondence.csv", correspondence_csv(alignment, *fps))
    plot_alignment(alignment.cost, alignment.display_path() if alignment.soft else alignment.path,
                   folder / "alignment.png", title=f"{names[0]} (rows) vs {names[1]} (columns)",
                   labels=(f"{names[0]} frame", f"{names[1]} frame"), span=alignment.span,
                   unsure=unsure_frames(alignment))


def write_pair(source: VideoSource, index: int, alignment: Alignment, test: SamenessTest, folder: Path,
               frames_a: np.ndarray, frames_b: np.ndarray, progress: bool = True) -> None:
    """Write the CSV, plot, side-by-side video and viewer of video `index` aligned to video 0 into `folder`
    (`frames_a`, `frames_b`: the two videos' display frames, uint8 (T, H, W, 3))."""
    a, b = source.entries[0], source.entries[index]
    write_csv_and_plot(alignment, folder, (a.id, b.id), (a.fps, b.fps))
    write_side_by_side(frames_a, frames_b, alignment.display_path(), folder / "side_by_side.mp4", a.fps, progress)
    video_a = write_browser_video(frames_a, folder / "video_a.mp4", a.fps)
    video_b = write_browser_video(frames_b, folder / "video_b.mp4", b.fps)
    calibrated = alignment.calibrated  # Drop-DTW's matched flags are not a confidence to draw
    data = viewer_data(np.arange(len(frames_a)) / a.fps, alignment.b_of_a / b.fps, alignment.frame_cost, a.fps,
                       b.fps, duration_b=b.num_frames / b.fps, verdict=test.message(),
                       same_process=test.same_process, confidence=None if calibrated is None else calibrated[0])
    write_viewer(folder / "viewer.html", video_a, video_b, data, title=f"{a.id} <-> {b.id}", names=(a.id, b.id))


@dataclass
class FeaturePair:
    """A feature-stream alignment of B to A: the streams used and which tracked people were compared."""

    alignment: Alignment
    streams: list[str]
    people: tuple[int, int] | None   # (person of A, person of B), None for whole frames
    candidates: int                  # cost matrices tried (pairings of people; with and without motion)
    z: float | None = None           # the same-process z of the kept one (only where there were several)


def align_features(spec, a, b, fps_a: float, fps_b: float, settings: PathSettings = PathSettings(),
                   fallback_motion: bool = True, contextual: bool = True, whole_frames: bool = True) -> FeaturePair:
    """Align `b` to `a` (`apps.features.VideoFeatures`) on the constrained path.

    With `contextual` (the default) the fused stream costs are made contextual before anything else looks at them
    (`apps.contextual.contextual_cost`: each cost relative to the typical costs of its two frames). On the
    real-footage benchmark it took the default features from 2.77 to 2.47 frames of mean error.
    `gtalign sync` does without it: on the sync benchmark it made the clocks worse (cameras within 1 frame 67% ->
    50%) and the confidence, calibrated on plain costs, marked a camera 2 frames off "ok".

    Where there is a choice of cost matrix, the one that shows the same process most clearly is kept: the highest z
    of the same-process test (`apps.sameness`: how far the alignment's cost lies below those of B shuffled in time).
    The choices are:

    - **whether to compare people at all**, where both videos show one: whole frames (the fallback below) are a
      candidate beside every pairing of people. BlazePose finds "people" in cartoons and in scenes where the
      person is a small part of what changes. On the real-footage benchmark this took `Megamind` (a cartoon)
      from 7.2 and 3.1 frames to 0.7 and 1.5, `carphone_pristine/0` from 3.3 to 1.5, and the default from 2.47
      to 2.22 frames; on the 20 pairs of real other viewpoints of a person, the person streams' z was 3-15
      above the whole frames' and they were kept on every one. With `whole_frames` False people are always
      compared where both videos show one.
    - **which people to compare**, where several are tracked. The same person doing the same thing aligns far
      better in order than shuffled; a bystander against the performer hardly does. On the two-person scenes of
      the real-footage benchmark (10 pairs) this choice was 2.33 frames off on average against 2.21 for the best
      pairing in hindsight, 2.57 for the most-found person of each video and 2.49 for the lowest path cost; the
      highest confidence did as well (2.23) but is high on unrelated random features too.
    - **whether motion joins whole frames** where no person is compared (`stream_costs`' fallback). Motion finds
      small moving things in still scenes, but where it is seen from elsewhere it changes with the viewpoint:
      on the benchmark's real other viewpoints, whole frames with motion were 8.7 frames off against 4.8 without;
      on single-camera clips 2.6 against 3.5. Chosen by z: 4.7 and 2.6 (docs/results.md). Motion is a smooth,
      low-dimensional signal that unrelated videos match better by chance than appearance does (their z rose
      with it on most unrelated pairs tried), so it is kept only where the pair then passes the same-process test
      (z >= `DEFAULT_MIN_Z`): it may settle how a pair is aligned, never whether it looks like one process.
      With `fallback_motion` False it is never added (`apps.sync_run`: cameras of one event are other viewpoints
      by definition).
    """
    person_streams = bool(set(spec.names) & {"pose", "crop"})
    candidates = pairings(a, b) if person_streams else [None]
    if whole_frames and candidates != [None]:
        candidates.append(None)
    options: list[tuple[tuple[int, int] | None, bool]] = []
    for people in candidates:
        in_fallback = people is None and person_streams and "motion" not in spec.names
        motions = ([True, False] if fallback_motion else [False]) if in_fallback else [True]
        options += [(people, motion) for motion in motions]
    best: tuple[float, np.ndarray, list[str], tuple[int, int] | None] | None = None
    for people, motion in options:
        cost, used = stream_costs(spec, a, b, people, fallback_motion=motion)
        cost = contextual_cost(cost) if contextual else cost
        if best is not None and used == best[2] and people == best[3]:
            continue  # no motion stream to add: the same matrix again
        z = sameness_test(cost).z if len(options) > 1 else 0.0
        added_motion = motion and "motion" in used and "motion" not in spec.names
        if added_motion and z < DEFAULT_MIN_Z:
            continue
        if best is None or z > best[0]:
            best = (z, cost, used, people)
    assert best is not None  # options that add no motion are never skipped, and every pairing has one
    z, cost, used, people = best
    return FeaturePair(align_costs(cost, fps_a, fps_b, settings), used, people, len(options),
                       z if len(options) > 1 else None)


#: Videos whose features are extracted at once (`extract_all`): BlazePose and the network each keep about one core
#: busy per video.
FEATURE_WORKERS = min(2, os.cpu_count() or 1)


@contextmanager
def threads_per_worker(workers: int) -> Iterator[None]:
    """Torch's CPU threads divided among `workers` threads that each run the network, restored afterwards: two
    videos extracted at once on two cores, each with two torch threads, took 18.1 s where one thread each took
    15.3 s (four Pose2Sim copies, 2-core AMD EPYC)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads // max(1, workers)))
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def extract_all(source: VideoSource, extractor: FeatureExtractor, progress: bool = True,
                workers: int = FEATURE_WORKERS, displays: Sequence[DisplayFrames] | None = None
                ) -> list[VideoFeatures]:
    """Every video's feature streams (`apps.features.VideoFeatures`), in order, with a progress bar.

    `workers` videos at a time, in threads, torch's threads shared among them (`threads_per_worker`): BlazePose and
    the network release the GIL, so two videos on two cores take about 0.57 of the time of one after the other,
    with the same streams. `displays` (one per video) keep each video's display frames on the way
    (`apps.display`).
    """
    extractor.trunk()  # built once, before the threads share it
    workers = max(1, min(workers, len(source)))
    pool = ThreadPoolExecutor(workers)
    total = sum(e.num_frames for e in source.entries)
    with tqdm(total=total, desc="features", unit="frame", disable=not progress) as bar:
        counted = _FrameCounter(bar)

        def tap(i: int) -> Callable[[Iterator[np.ndarray]], Iterator[np.ndarray]]:
            display = displays[i].tap if displays else None
            return lambda frames: counted(display(frames) if display else frames)

        try:
            with threads_per_worker(workers):
                futures = [pool.submit(extractor.video, source, i, tap(i)) for i in range(len(source))]
                return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C or an error: videos not started are cancelled


class _FrameCounter:
    """Moves a progress bar by every frame that passes, from several threads (a frame-level rate and ETA: a bar
    over videos would stand still for minutes on two long ones)."""

    def __init__(self, bar: tqdm, every: int = 8) -> None:
        self.bar, self.every, self.lock = bar, every, threading.Lock()

    def __call__(self, frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        pending = 0
        for frame in frames:
            yield frame
            pending += 1
            if pending == self.every:
                self._add(pending)
                pending = 0
        self._add(pending)

    def _add(self, n: int) -> None:
        if n:
            with self.lock:
                self.bar.update(n)


def feature_alignments(source: VideoSource, extractor, settings: PathSettings = PathSettings(),
                       progress: bool = True, features: list | None = None,
                       displays: Sequence[DisplayFrames] | None = None
                       ) -> tuple[list[FeaturePair], list[list[str]]]:
    """Align every video after the first to the first with feature streams (`apps.features`) and the constrained
    path: (one `FeaturePair` per video after the first, notes per video). `features`: the videos' streams when
    already extracted; else `displays` are passed on to `extract_all`."""
    feats = features if features is not None else extract_all(source, extractor, progress, displays=displays)
    found = [align_features(extractor.spec, feats[0], feats[k], source.entries[0].fps, source.entries[k].fps,
                            settings) for k in range(1, len(source))]
    return found, [f.notes for f in feats]


def align_videos(source: VideoSource, encoder: FrameEncoder | None, out_dir: str | Path, soft: bool = False,
                 gamma: float = 0.1, max_side: int = 480, progress: bool = True, extractor=None,
                 path_settings: PathSettings = PathSettings(), features: list | None = None,
                 constrained: bool = False, extra: dict[str, Any] | None = None,
                 displays: Sequence[DisplayFrames] | None = None) -> dict[str, Any]:
    """Align every video of `source` after the first to the first; write the files (module docstring).

    With two videos the pair's files go to `out_dir` itself, with more to `out_dir/<index>_<id>/`.
    With `extractor` (an `apps.features.FeatureExtractor`) the videos are aligned by its feature streams on the
    constrained path (`align_costs`; `features`: their streams when already extracted) instead of `encoder`'s
    embeddings on plain DTW (or on the constrained path too with `constrained`). `extra` is added to the summary.
    The written videos show the display frames the features pass kept (`apps.display`; `displays`: those kept by
    the pass that extracted `features`), else each video decoded again.
    Returns the summary also written to `out_dir/summary.json`.
    """
    out = Path(out_dir)
    if displays is None and extractor is not None and features is None:
        displays = display_taps(source, max_side)
    if extractor is not None:
        found, notes = feature_alignments(source, extractor, path_settings, progress, features, displays)
        description = extractor.description
    elif encoder is not None:
        embeddings = encode_all(encoder, source, progress)
        description = encoder.description
    else:
        raise GtalignError("align_videos needs a frame encoder or a feature extractor, got neither")
    frames_a = display_frames(source, 0, max_side, displays)
    a = source.entries[0]
    pairs = []
    for k in tqdm(range(1, len(source)), desc="align", unit="pair", disable=not progress):
        b = source.entries[k]
        if extractor is not None:
            alignment = found[k - 1].alignment
        elif constrained:
            alignment = embedding_alignment(embeddings[0], embeddings[k], a.fps, b.fps, path_settings)
        else:
            alignment = align_embeddings(embeddings[0], embeddings[k], soft=soft, gamma=gamma)
        test = sameness_test(alignment.cost)
        folder = out if len(source) == 2 else out / f"{k:02d}_{b.id}"
        write_pair(source, k, alignment, test, folder, frames_a, display_frames(source, k, max_side, displays),
                   progress)
        pairs.append({"a": a.id, "b": b.id, "folder": str(folder), "frames": [a.num_frames, b.num_frames],
                      "fps": [a.fps, b.fps], "soft": soft, "mean_cost": alignment.mean_cost,
                      "span": span_json(alignment, a.fps, b.fps),
                      "span_message": span_message(alignment, (a.id, b.id), (a.fps, b.fps)),
                      "same_process": test.to_json()})
        if (dropped := dropped_json(alignment)) is not None:
            pairs[-1]["dropped"] = dropped
        if alignment.confidence is not None:
            pairs[-1] |= {"confidence": alignment.overall_confidence, "unsure": unsure_json(alignment),
                          "matched_frames": int((alignment.matched > 0.5).sum()), "path_score": alignment.score,
                          "cycle_frames": cycle_frames(alignment, a.fps, b.fps, path_settings)}
        if extractor is not None:
            pairs[-1] |= {"streams": found[k - 1].streams, "notes": {a.id: notes[0], b.id: notes[k]},
                          "people": found[k - 1].people}
    summary = {"reference": a.id, "encoder": description, "pairs": pairs} | (extra or {})
    write_json(out / "summary.json", summary)
    return summary
