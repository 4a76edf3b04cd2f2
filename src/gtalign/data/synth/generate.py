"""Writing a synthetic dataset: frame folders of JPEGs plus a gtalign manifest, in parallel and resumable."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from gtalign.data.manifest import Manifest, VideoEntry, save_manifest
from gtalign.data.synth.actions import ACTIONS
from gtalign.data.synth.spec import VideoSpec, sample_spec
from gtalign.data.synth.timeline import DIFFICULTIES
from gtalign.errors import GtalignError
from gtalign.io import pool_context
from gtalign.registry import check_choice

DATASET_NAME = "synth-actions"
FPS = 30.0
JPEG_QUALITY = 90
DONE_FILE = ".synth-done"  # in a finished frame folder: the digest of the spec it was rendered from


def spec_digest(spec: VideoSpec, quality: int) -> str:
    text = json.dumps({"meta": spec.to_meta(), "quality": quality}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_written(folder: Path, digest: str) -> bool:
    """Whether `folder` holds the finished frames of the spec with this digest (so resuming can skip it)."""
    done = folder / DONE_FILE
    return done.is_file() and done.read_text(encoding="utf-8").strip() == digest


def write_video(spec: VideoSpec, folder: Path, quality: int = JPEG_QUALITY) -> Path:
    """Render `spec` into `folder` as 000000.jpg, 000001.jpg, ...

    Frames go to a hidden sibling folder first, which is renamed onto `folder` when complete: a reader never
    sees a half-written video, and an interrupted run leaves only finished videos behind.
    """
    folder = Path(folder)
    digest = spec_digest(spec, quality)
    if is_written(folder, digest):
        return folder
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for t, frame in enumerate(spec.frames()):
        Image.fromarray(frame).save(tmp / f"{t:06d}.jpg", quality=quality)
    (tmp / DONE_FILE).write_text(digest + "\n", encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def _check_args(num_classes: int, videos_per_class: int, min_frames: int, max_frames: int, image_size: int,
                seed: int, workers: int, val_fraction: float) -> None:
    checks = [
        ("num_classes", num_classes, 1 <= num_classes <= len(ACTIONS), f"an integer in [1, {len(ACTIONS)}]"),
        ("videos_per_class", videos_per_class, videos_per_class >= 1, "an integer >= 1"),
        ("min_frames", min_frames, min_frames >= 2, "an integer >= 2"),
        ("max_frames", max_frames, max_frames >= min_frames, f"an integer >= min_frames ({min_frames})"),
        ("image_size", image_size, image_size >= 16, "an integer >= 16 (pixels)"),
        ("seed", seed, seed >= 0, "an integer >= 0"),
        ("workers", workers, workers >= 0, "an integer >= 0 (0 or 1: no worker processes)"),
        ("val_fraction", val_fraction, 0.0 <= val_fraction < 1.0, "a number in [0, 1)"),
    ]
    for name, value, ok, expected in checks:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok:
            raise GtalignError(f"{name} must be {expected}, got {value!r}")


def num_train(videos_per_class: int, val_fraction: float) -> int:
    """How many of a class's videos (the first ones) are in the train split; the rest are `val`.

    At least one video stays in each split when there are two or more videos and val_fraction > 0.
    """
    n_val = round(videos_per_class * val_fraction)
    if val_fraction > 0 and videos_per_class >= 2:
        n_val = min(max(n_val, 1), videos_per_class - 1)
    return videos_per_class - n_val


def _render(job: tuple[VideoSpec, str]) -> str:
    spec, folder = job
    write_video(spec, Path(folder))
    return folder




def generate_dataset(out_dir: str | os.PathLike, num_classes: int = 4, videos_per_class: int = 40,
                     min_frames: int = 40, max_frames: int = 120, image_size: int = 112, seed: int = 0,
                     workers: int = 2, val_fraction: float = 0.25, progress: bool = True,
                     difficulty: str = "easy") -> Path:
    """Generate the synthetic action dataset in `out_dir` and return the path of its manifest.json.

    `num_classes` actions (the first of `ACTIONS`), `videos_per_class` videos each with a frame count uniform in
    [min_frames, max_frames], frames `image_size` pixels square. Per class the first videos are `train`, the
    last `val_fraction` of them `val`. `difficulty`: `"easy"` (mild time warps, static camera) or `"hard"` (timing
    a clock cannot predict, moving camera, changing light, a distractor; docs/synthetic.md). The dataset is a
    function of the arguments (not of `workers`); a rerun into the same folder keeps the videos already written
    for the same arguments.
    """
    _check_args(num_classes, videos_per_class, min_frames, max_frames, image_size, seed, workers, val_fraction)
    check_choice("difficulty", difficulty, DIFFICULTIES)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_train = num_train(videos_per_class, val_fraction)
    entries, jobs = [], []
    for c in range(num_classes):
        for i in range(videos_per_class):
            spec = sample_spec(seed, c, i, min_frames, max_frames, image_size, difficulty)
            video_id = f"{spec.action}_{i:04d}"
            folder = out / "videos" / video_id
            entries.append(VideoEntry(id=video_id, path=folder.resolve(), class_name=spec.action,
                                      split="train" if i < n_train else "val", num_frames=spec.num_frames,
                                      fps=FPS, labels=spec.labels, meta=spec.to_meta()))
            jobs.append((spec, str(folder)))
    bar = tqdm(total=len(jobs), desc="synth videos", unit="video", disable=not progress)
    if workers <= 1:
        for job in jobs:
            _render(job)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
            for future in as_completed([pool.submit(_render, job) for job in jobs]):
                future.result()
                bar.update()
    bar.close()
    actions = ACTIONS[:num_classes]
    name = DATASET_NAME if difficulty == "easy" else f"{DATASET_NAME}-{difficulty}"
    manifest = Manifest(name=name, videos=entries, classes=[a.name for a in actions],
                        label_names={a.name: a.phase_names for a in actions})
    return save_manifest(manifest, out / "manifest.json")
