"""`--fit` checks itself: is the fitted embedder better than the default features on these very videos?

Without labels, the check makes its own: a held-out copy of each video, re-timed by a known random warp and changed
in appearance as another camera would change it (`gtalign.data.retime`), never seen in training. Each video is
aligned to its copy by the default feature streams and by the fitted embedder (both on the constrained path), and
the mean frame error against the known warp is measured. The fitted embedder is used only if it is better on
*every* copy and lower in the mean by `MARGIN`; otherwise `align --fit` falls back to the default features and says
why. The rule is strict on purpose: the fitted embedder was trained on these very videos (under augmentation), so
copies of them flatter it, and a mean can be won on one lucky copy while the real pair gets worse.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from gtalign.apps.align import align_features, extract_all
from gtalign.apps.alignment import embedding_alignment
from gtalign.apps.encoders import CheckpointEncoder
from gtalign.apps.features import WORKING_SIDE
from gtalign.apps.fit import fit_embedder
from gtalign.apps.inputs import open_videos, read_display_frames
from gtalign.data.retime import random_change, random_warp, truth_positions, write_retimed
from gtalign.data.source import VideoSource

#: The fitted embedder must beat the default's mean check error by this fraction (and win on every copy) to be used.
MARGIN = 0.05
COPIES_PER_VIDEO = 2  # held-out copies per checked video, each with its own warp and change
COPY_SIDE = 480  # longest side of the check copies (pixels)


@dataclass
class FitCheck:
    """The outcome of `--fit`'s self-check: both ways' errors on the held-out copies and which one is used."""

    default_error_frames: float  # mean over the copies
    fitted_error_frames: float
    used: str            # "fitted" or "default"
    reason: str
    copies: list[str]
    default_errors: list[float] = field(default_factory=list)  # per copy, in the order of `copies`
    fitted_errors: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckCopy:
    """A held-out re-timed copy of one video, with the known position of each original frame in it."""

    original: int        # index of the video in the source
    path: Path
    fps: float
    truth: np.ndarray    # (N,) fractional frame of the copy for each frame of the original
    covered: np.ndarray  # (N,) bool


def make_copies(source: VideoSource, folder: Path, seed: int = 0, videos: int = 2,
                per_video: int = COPIES_PER_VIDEO) -> list[CheckCopy]:
    """Held-out re-timed, changed copies of the first `videos` videos, `per_video` each (written to `folder`)."""
    copies = []
    for i in range(min(videos, len(source))):
        e = source.entries[i]
        frames = read_display_frames(source, i, COPY_SIDE)
        if len(frames) < 8:
            continue
        for j in range(per_video):
            rng = np.random.default_rng(seed + 7919 * i + 104729 * j)
            warp = random_warp(len(frames), e.fps, rng)
            path = write_retimed(frames, e.fps, warp, random_change(rng, 0.7), folder / f"check_{i:02d}_{j}.mp4")
            truth, covered = truth_positions(warp, e.fps, len(frames))
            copies.append(CheckCopy(i, Path(path), warp.fps, truth, covered))
    return copies


def copy_error(position: np.ndarray, copy: CheckCopy, fps_original: float) -> float:
    """Mean |error| over the covered frames, in frames of the slower of the original and the copy."""
    unit = min(fps_original, copy.fps) / copy.fps
    return float(np.mean(np.abs(position[copy.covered] - copy.truth[copy.covered])) * unit)


def check_fit(source: VideoSource, copies: list[CheckCopy],
              default_positions: Callable[[int, CheckCopy], np.ndarray],
              fitted_positions: Callable[[int, CheckCopy], np.ndarray]) -> FitCheck:
    """Compare the two ways of aligning each original to its copy; `*_positions(k, copy)` give, for copy k of
    `copies`, its position for each frame of its original (video `copy.original`)."""
    if not copies:
        return FitCheck(float("nan"), float("nan"), "fitted", "no video was long enough for a check copy (8 frames)",
                        [])
    def errors(positions: Callable[[int, CheckCopy], np.ndarray]) -> list[float]:
        return [copy_error(positions(k, c), c, source.entries[c.original].fps) for k, c in enumerate(copies)]

    de, fe = errors(default_positions), errors(fitted_positions)
    d, f = float(np.mean(de)), float(np.mean(fe))
    lost = sum(fk >= dk for dk, fk in zip(de, fe))
    if f < (1 - MARGIN) * d and lost == 0:
        used, reason = "fitted", (f"the fitted embedder aligned every held-out re-timed copy better: {f:.2f} frames "
                                  f"off on average against {d:.2f} for the default features")
    else:
        why = f"{f:.2f} frames off on average against {d:.2f}"
        if lost:
            why += f"; not better on {lost} of {len(copies)} copies"
        used, reason = "default", (f"the fitted embedder did not beat the default features on held-out re-timed "
                                   f"copies ({why}); the default features are used")
    return FitCheck(d, f, used, reason, [str(c.path) for c in copies], de, fe)


@dataclass
class CheckedFit:
    """What `fit_and_check` found: the encoder to align with (None: keep the default features), the videos'
    default feature streams, the check, and the fitted checkpoint."""

    encoder: Any
    features: list
    check: FitCheck
    checkpoint: Path


def fit_and_check(source: VideoSource, train_source: VideoSource, extractor, out_dir: Path, settings,
                  progress: bool = True, features: list | None = None) -> CheckedFit:
    """`align --fit`: fit an embedder on `train_source` (the videos, plus any `--with` data) into `out_dir/fit`
    with `settings` (`apps.fit.FitSettings`), then check it against `extractor`'s default streams on held-out
    re-timed copies of the videos (`check_fit`). `features`: the videos' default streams when already computed."""
    out_dir = Path(out_dir)
    checkpoint = fit_embedder(train_source, out_dir / "fit", settings, progress=progress)
    encoder = CheckpointEncoder(checkpoint, settings.device, feature_cache=out_dir / "fit" / "feature_cache")
    copies = make_copies(source, out_dir / "fit" / "check")
    copy_source = open_videos([c.path for c in copies], what="--fit check copies") if copies else None
    feats = features if features is not None else extract_all(source, extractor, progress)

    def default_positions(k: int, copy: CheckCopy) -> np.ndarray:
        i = copy.original
        assert copy_source is not None  # called only when there are copies
        fc = extractor.extract(copy_source.iter_frames(k, max_side=WORKING_SIDE), copy.fps)  # the fps it was made at
        return align_features(extractor.spec, feats[i], fc, source.entries[i].fps, copy.fps).alignment.b_of_a

    def fitted_positions(k: int, copy: CheckCopy) -> np.ndarray:
        i = copy.original
        assert copy_source is not None
        return embedding_alignment(encoder.encode(source, i), encoder.encode(copy_source, k), source.entries[i].fps,
                                   copy.fps).b_of_a

    check = check_fit(source, copies, default_positions, fitted_positions)
    return CheckedFit(encoder if check.used == "fitted" else None, feats, check, Path(checkpoint))
