"""Alignment on real footage re-timed by known warps: how far is the aligned frame from the truth?

For each real clip (`fetch_clips.py`; `make clips`), copies are made on a random monotone warp (a lead-in and a
trailing cut, piecewise speeds 0.5x-2x, dropped and duplicated frames, another frame rate) and changed in appearance
as another camera would change them (mirror, crop/zoom/translation, perspective, light and colour, blur, a smaller
frame, re-encoding at a low bit rate): `gtalign.data.retime`. Pose2Sim's demos add real other viewpoints: four
synchronised cameras of one person (and of the same person with a bystander), where B is another camera's footage
re-timed. Two clips come with a second real rendition
(Megamind_bugy.avi: the same film with glitched frames; carphone_distorted.mp4: a heavily compressed copy); their
copies are made from that rendition.

Each copy B is aligned to the original A by every feature/path option, side by side in one run. Reported per option
over all pairs: mean |error| over the frames of A that both cover, in frames of the slower of the two videos (a
copy at a higher frame rate repeats source frames, so its own frames are ambiguous by that much), the share within
1 and 3 frames, Kendall's tau between found and true positions, the worst pair, and time. `docs/results.md` gets
the table.

Usage: ``python benchmarks/align_real.py [--quick] [--fit] [--out DIR]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration import calibration_error, fit_platt, left_out, reliability, roc_auc  # noqa: E402
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402
from fetch_clips import cache_dir  # noqa: E402

from gtalign.apps.align import FEATURE_WORKERS, align_features, threads_per_worker  # noqa: E402
from gtalign.apps.alignment import PathSettings, align_costs, align_embeddings, cycle_frames  # noqa: E402
from gtalign.apps.confidence import CONFIDENCE_GAMMA, PLATT, frame_near  # noqa: E402
from gtalign.apps.contextual import contextual_cost  # noqa: E402
from gtalign.apps.features import (  # noqa: E402
    DEFAULT_FEATURES,
    FEATURES_VERSION,
    WORKING_SIDE,
    FeatureExtractor,
    FeatureSpec,
    VideoFeatures,
    stream_costs,
)
from gtalign.data.retime import random_change, random_warp, truth_positions, write_retimed  # noqa: E402
from gtalign.data.video import iter_video, probe_video  # noqa: E402
from gtalign.ops import dtw_path, path_to_mapping  # noqa: E402

#: (clip, the rendition the copies are made from, frames used at most)
CLIPS = (("demo.mp4", None, None), ("vtest.avi", None, 400), ("bikes.mp4", None, None),
         ("bigbuckbunny.mp4", None, None), ("box.mp4", None, 300), ("cup.mp4", None, None),
         ("tree.avi", None, None), ("balle-jbart.mp4", None, None), ("Megamind.avi", "Megamind_bugy.avi", None),
         ("carphone_pristine.mp4", "carphone_distorted.mp4", None))
#: Synchronised cameras of one event (Pose2Sim's demos: one person, and one person with a bystander): A is one
#: camera as filmed, B another camera's footage re-timed, so the truth is the warp.
MULTIVIEW = (("p2s_single", ((1, 2), (1, 3), (2, 4), (3, 4), (1, 4))),
             ("p2s_multi", ((1, 2), (1, 3), (2, 4), (3, 4), (1, 4))))
SOURCE_SIDE = 720  # copies are made from frames scaled to this longest side
#: Temperatures of the posterior whose mass near the position is compared as the confidence's signal (the shipped
#: one is `gtalign.apps.confidence.CONFIDENCE_GAMMA`).
TEMPERATURES = (0.05, 0.2, CONFIDENCE_GAMMA, 1.0, 2.0)

SPECS = ("imagenet", "imagenet+motion:0.25", "crop", "pose", "pose+crop:0.5", "pose+imagenet:0.5",
         "pose+crop:0.5+imagenet:0.5")
PATHS = {"soft": PathSettings(), "hard": PathSettings(gamma=0.0), "closed ends": PathSettings(open_ends=False),
         "skip 0.8": PathSettings(skip=0.8), "skip 1.2": PathSettings(skip=1.2),
         "max speed 2": PathSettings(max_speed=2.0), "no smooth-speed prior": PathSettings(smooth_s=0.0),
         "Drop-DTW (--drop)": PathSettings(drop=True)}


@dataclass
class Pair:
    name: str
    a: Path            # the original clip (trimmed copy when frames are limited)
    b: Path            # the re-timed, changed copy
    fps_a: float
    fps_b: float
    truth: np.ndarray  # (N,) fractional frame of B for each frame of A
    covered: np.ndarray
    warp: str


def _frames(path: Path, limit: int | None, side: int | None) -> list[np.ndarray]:
    from PIL import Image

    out = []
    for k, f in enumerate(iter_video(path)):
        if limit is not None and k >= limit:
            break
        if side and max(f.shape[:2]) > side:
            s = side / max(f.shape[:2])
            f = np.asarray(Image.fromarray(f).resize((round(f.shape[1] * s), round(f.shape[0] * s)), Image.BILINEAR))
        out.append(f)
    return out


def make_pairs(clips_dir: Path, out: Path, variants: int) -> list[Pair]:
    """`variants` re-timed, changed copies of every clip and camera pair (written to `out/videos` unless there from
    the same warp and change), two clips at a time in threads; the pairs in the order of `CLIPS` and `MULTIVIEW`."""
    videos = out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    jobs = [lambda c=c: _clip_pairs(clips_dir, videos, c, variants) for c in range(len(CLIPS))]
    jobs += [lambda c=c, i=i, j=j: _camera_pairs(clips_dir, videos, c, i, j, variants)
             for c, (_, cams) in enumerate(MULTIVIEW) for i, j in cams]
    with ThreadPoolExecutor(2) as pool:
        return [pair for pairs in pool.map(lambda job: job(), jobs) for pair in pairs]


def _clip_pairs(clips_dir: Path, videos: Path, c: int, variants: int) -> list[Pair]:
    """The copies of clip `CLIPS[c]`, each against the clip (its first frames when limited)."""
    from gtalign.data.video import write_video

    clip, rendition, limit = CLIPS[c]
    src = clips_dir / clip
    if not src.exists():
        raise SystemExit(f"align_real: {src} is missing; run `make clips` first")
    fps = probe_video(src).fps
    a = src
    if limit is not None:
        a = videos / f"{Path(clip).stem}_first{limit}.mp4"
        if not a.exists():
            write_video(a, np.stack(_frames(src, limit, None)), fps, quality=2)
    frames = _frames(clips_dir / (rendition or clip), limit, SOURCE_SIDE)
    pairs = []
    for v in range(variants):
        rng = np.random.default_rng(1000 * c + v)
        warp = random_warp(len(frames), fps, rng)
        change = random_change(rng, 0.5 if rendition else 1.0)
        b = _retimed(frames, fps, warp, change, videos / f"{Path(clip).stem}_v{v}.mp4")
        truth, covered = truth_positions(warp, fps, len(frames))
        pairs.append(Pair(f"{Path(clip).stem}/{v}", a, b, fps, warp.fps, truth, covered, warp.description))
    return pairs


def _camera_pairs(clips_dir: Path, videos: Path, c: int, i: int, j: int, variants: int) -> list[Pair]:
    """Camera i of scene `MULTIVIEW[c]` as filmed against copies of camera j's footage."""
    stem = MULTIVIEW[c][0]
    a, src = clips_dir / f"{stem}_cam{i:02d}.mp4", clips_dir / f"{stem}_cam{j:02d}.mp4"
    if not (a.exists() and src.exists()):
        raise SystemExit(f"align_real: {a} or {src} is missing; run `make clips` first")
    fps = probe_video(a).fps
    frames = _frames(src, None, SOURCE_SIDE)
    pairs = []
    for v in range(variants):
        rng = np.random.default_rng(5000 + 100 * c + 10 * i + j + 1000 * v)
        warp = random_warp(len(frames), fps, rng)
        change = random_change(rng, 0.5)
        b = _retimed(frames, fps, warp, change, videos / f"{stem}_{i}to{j}_v{v}.mp4")
        truth, covered = truth_positions(warp, fps, len(frames))
        pairs.append(Pair(f"{stem} cam{i}->cam{j}/{v}", a, b, fps, warp.fps, truth, covered, warp.description))
    return pairs


def _retimed(frames: list[np.ndarray], fps: float, warp, change, b: Path) -> Path:
    """`b`, written unless it is there from the same warp and change."""
    meta = b.with_suffix(".json")
    record = {"warp": warp.description, "change": change.to_json(), "fps": warp.fps}
    if not (b.exists() and meta.exists() and json.loads(meta.read_text()) == json.loads(json.dumps(record))):
        write_retimed(frames, fps, warp, change, b, quality=12)
        meta.write_text(json.dumps(record))
    return b


def frame_errors(position: np.ndarray, pair: Pair) -> np.ndarray:
    """|found - true| position in B of each frame of A that both cover, in frames of the slower video (a copy at a
    higher frame rate repeats source frames, so its own frames are ambiguous by that much)."""
    unit = min(pair.fps_a, pair.fps_b) / pair.fps_b
    return np.abs(position[pair.covered] - pair.truth[pair.covered]) * unit


def metrics(position: np.ndarray, pair: Pair) -> dict:
    from scipy.stats import kendalltau

    err = frame_errors(position, pair)
    tau = kendalltau(position[pair.covered], pair.truth[pair.covered]).statistic
    return {"mean": float(err.mean()), "within1": float((err <= 1).mean()), "within3": float((err <= 3).mean()),
            "frames": int(err.size), "frames_within3": int((err <= 3).sum()), "error_sum": float(err.sum()),
            "tau": float(tau) if np.isfinite(tau) else 0.0}


def feature_key(extractor: FeatureExtractor, path: Path, cache: Path) -> Path:
    """Where `cached_features` keeps the video's streams (the seconds they took beside it, as .json)."""
    stat = path.stat()
    stride = f"-s{extractor.stride}" if extractor.stride > 1 else ""
    return cache / (f"{path.stem}-{stat.st_size}-{int(stat.st_mtime)}-p{extractor.max_people}{stride}"
                    f"-v{FEATURES_VERSION}.npz")


def cached_features(extractor: FeatureExtractor, path: Path, fps: float, cache: Path):
    """The video's streams and the seconds they took, from `cache` when computed before for the same file."""
    key = feature_key(extractor, path, cache)
    timing = key.with_suffix(".json")
    if key.exists() and timing.exists():
        return VideoFeatures.load(key), json.loads(timing.read_text())["seconds"]
    t = time.perf_counter()
    f = extractor.extract(iter_video(path, max_side=WORKING_SIDE), fps)  # as `gtalign align` decodes them
    seconds = time.perf_counter() - t
    f.save(key)
    timing.write_text(json.dumps({"seconds": seconds}))
    return f, seconds


def cached_before(encoder, path: Path, cache: Path) -> tuple[np.ndarray, float]:
    """The "before" embedding of the video (whole frames, ImageNet at 224 px) and the seconds it took, from `cache`
    when computed before for the same file."""
    from gtalign.apps.inputs import open_videos

    stat = path.stat()
    key = cache / f"{path.stem}-{stat.st_size}-{int(stat.st_mtime)}-before.npy"
    timing = key.with_suffix(".json")
    if key.exists() and timing.exists():
        return np.load(key, allow_pickle=False), json.loads(timing.read_text())["seconds"]
    t = time.perf_counter()
    emb = encoder.encode(open_videos([path], None), 0)
    seconds = time.perf_counter() - t
    cache.mkdir(parents=True, exist_ok=True)
    np.save(key, emb, allow_pickle=False)
    timing.write_text(json.dumps({"seconds": seconds}))
    return emb, seconds


def extract_videos(pairs: list[Pair], extractor: FeatureExtractor, old, cache: Path) -> tuple[dict, dict]:
    """Every video's feature streams and "before" embedding, each with its seconds: {path: (value, seconds)} twice.

    Two videos at a time, in threads, as `gtalign align` extracts its two videos (`apps.align.extract_all`); a
    pair's time is then the slower of its two videos (a video's seconds are measured while another is extracted).
    """
    feats = extract_cached(pairs, extractor, cache)
    with ThreadPoolExecutor(FEATURE_WORKERS) as pool, threads_per_worker(FEATURE_WORKERS):
        before = dict(zip(feats, pool.map(lambda path: cached_before(old, path, cache), feats)))
    return feats, before


def extract_cached(pairs: list[Pair], extractor: FeatureExtractor, cache: Path) -> dict:
    """Every video of `pairs` once: {path: (its feature streams, the seconds they took)}, from `cache` when computed
    before (`cached_features`), two videos at a time in threads as `gtalign align` runs them."""
    videos = list(dict.fromkeys(v for pair in pairs for v in ((pair.a, pair.fps_a), (pair.b, pair.fps_b))))
    extractor.trunk()  # built once, before the threads share it
    with ThreadPoolExecutor(FEATURE_WORKERS) as pool, threads_per_worker(FEATURE_WORKERS):
        return dict(zip([v[0] for v in videos], pool.map(lambda v: cached_features(extractor, v[0], v[1], cache),
                                                         videos)))


#: What `_pair_rows` reads in the worker processes (inherited by fork, not pickled): the pairs, each video's
#: streams and "before" embedding with their seconds.
_SHARED: dict = {}


def _pair_rows(k: int) -> dict[str, dict]:
    """Every option's result on pair k: {row name: metrics and seconds}."""
    pair, feats, before = _SHARED["pairs"][k], _SHARED["feats"], _SHARED["before"]
    out: dict[str, dict] = {}

    def add(name: str, row: dict) -> None:
        out[name] = row

    seconds = {path: f[1] for path, f in feats.items()}
    fa, fb = feats[pair.a][0], feats[pair.b][0]
    # before: whole-frame ImageNet (224 px, 4x4 grid) and plain DTW
    t = time.perf_counter()
    pos = align_embeddings(before[pair.a][0], before[pair.b][0]).b_of_a
    add("before: imagenet 224px, plain DTW",
        metrics(pos, pair) | {"pair": pair.name,
                              "seconds": time.perf_counter() - t + max(before[pair.a][1], before[pair.b][1])})
    feature_s = max(seconds[pair.a], seconds[pair.b])  # the two videos at once (`extract_videos`)
    for spec_text in SPECS:
        spec = FeatureSpec.parse(spec_text)
        paths = PATHS if spec_text == DEFAULT_FEATURES else {"soft": PATHS["soft"]}
        soft = None
        for path_name, settings in paths.items():
            t = time.perf_counter()
            found = align_features(spec, fa, fb, pair.fps_a, pair.fps_b, settings)
            soft = found if path_name == "soft" else soft
            al = found.alignment
            dp = time.perf_counter() - t
            add(f"{spec_text}, {path_name}",
                metrics(al.b_of_a, pair) | {"pair": pair.name, "seconds": dp + feature_s,
                                            "used": found.streams, "people": found.people,
                                            "confidence": None if al.near is None else
                                            float(np.mean(al.confidence[pair.covered]))})
            if spec_text == DEFAULT_FEATURES and path_name == "soft":
                run = settings.max_run(pair.fps_a, pair.fps_b)
                out[f"{spec_text}, soft"].update(
                    cycle=cycle_frames(al, pair.fps_a, pair.fps_b, settings),
                    frame_confidence=al.confidence[pair.covered].round(4).tolist(),
                    frame_matched=al.matched[pair.covered].round(4).tolist(),
                    frame_near={str(g): (al.near if g == CONFIDENCE_GAMMA else  # align_costs computed the shipped one
                                         frame_near(al.cost, al.b_of_a, run, settings.skip, settings.open_ends,
                                                    pair.fps_a, pair.fps_b, g))[pair.covered].round(5).tolist()
                                for g in TEMPERATURES},
                    frame_within3=(frame_errors(al.b_of_a, pair) <= 3).tolist())
        if spec_text == DEFAULT_FEATURES:
            t = time.perf_counter()
            pos = path_to_mapping(np.asarray(dtw_path(al.cost)), len(al.cost))
            add(f"{spec_text}, plain DTW",
                metrics(pos, pair) | {"pair": pair.name, "seconds": time.perf_counter() - t + feature_s})
            # the most-found person of each video only, as before people were paired
            cost, _ = stream_costs(spec, fa, fb, (0, 0))
            al = align_costs(contextual_cost(cost), pair.fps_a, pair.fps_b, PATHS["soft"])
            add(f"{spec_text}, soft, first person only",
                metrics(al.b_of_a, pair) | {"pair": pair.name, "seconds": feature_s})
            # motion always joining whole frames where no person is compared (no same-process choice)
            al = soft.alignment
            if soft.people is None:
                cost, _ = stream_costs(spec, fa, fb, None)
                al = align_costs(contextual_cost(cost), pair.fps_a, pair.fps_b, PATHS["soft"])
            add(f"{spec_text}, soft, motion always in the fallback",
                metrics(al.b_of_a, pair) | {"pair": pair.name, "seconds": feature_s})
            # without the motion stream that joins whole frames where no person is compared
            still = [dataclasses.replace(f, streams={k: v for k, v in f.streams.items() if k != "motion"})
                     for f in (fa, fb)]
            al = align_features(spec, *still, pair.fps_a, pair.fps_b, PATHS["soft"]).alignment
            add(f"{spec_text}, soft, no motion in the fallback",
                metrics(al.b_of_a, pair) | {"pair": pair.name, "seconds": feature_s})
            # people compared wherever both videos show one (whole frames not a candidate then)
            al = align_features(spec, fa, fb, pair.fps_a, pair.fps_b, PATHS["soft"], whole_frames=False).alignment
            add(f"{spec_text}, soft, people always compared where seen",
                metrics(al.b_of_a, pair) | {"pair": pair.name, "seconds": feature_s})
            # the fused costs as they are, not made contextual
            al = align_features(spec, fa, fb, pair.fps_a, pair.fps_b, PATHS["soft"], contextual=False).alignment
            add(f"{spec_text}, soft, plain (not contextual) costs",
                metrics(al.b_of_a, pair) | {"pair": pair.name, "seconds": feature_s})
    return out


def run(pairs: list[Pair], threads: int, cache: Path) -> tuple[dict, dict, tuple[int, int]]:
    """Every option on every pair; the pairs are aligned two at a time in forked processes (the features are
    extracted first, two videos at a time). Returns the results, each video's feature seconds, and (videos whose
    features came from the cache, videos)."""
    import multiprocessing

    import torch

    from gtalign.apps.encoders import ImagenetEncoder

    torch.set_num_threads(threads)
    extractor = FeatureExtractor("pose+crop+imagenet")
    videos = {pair.a for pair in pairs} | {pair.b for pair in pairs}
    cached = sum(feature_key(extractor, v, cache).with_suffix(".json").exists() for v in videos)
    feats, before = extract_videos(pairs, extractor, ImagenetEncoder(), cache)
    _SHARED.update(pairs=pairs, feats=feats, before=before)
    results: dict[str, list[dict]] = {}
    workers = min(threads, len(pairs))
    context = multiprocessing.get_context("fork") if workers > 1 else None
    with (context.Pool(workers, initializer=torch.set_num_threads, initargs=(1,)) if context else _Serial()) as pool:
        for k, rows in enumerate(pool.imap(_pair_rows, range(len(pairs)))):
            for name, row in rows.items():
                results.setdefault(name, []).append(row)
            print(f"[{k + 1}/{len(pairs)}] {pairs[k].name}: default "
                  f"{rows[f'{DEFAULT_FEATURES}, soft']['mean']:.2f} frames, before "
                  f"{rows['before: imagenet 224px, plain DTW']['mean']:.2f}", file=sys.stderr, flush=True)
    return results, {str(p): f[1] for p, f in feats.items()}, (cached, len(videos))


class _Serial:
    """`Pool.imap` in this process (one thread, or one pair)."""

    def __enter__(self) -> "_Serial":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap(self, fn, items):
        return map(fn, items)


def summary_rows(results: dict) -> list[list]:
    rows = []
    for name, per_pair in results.items():
        mean = np.mean([r["mean"] for r in per_pair])
        worst = max(per_pair, key=lambda r: r["mean"])
        rows.append([name, round(float(mean), 2), round(100 * float(np.mean([r["within1"] for r in per_pair])), 1),
                     round(100 * float(np.mean([r["within3"] for r in per_pair])), 1),
                     pooled(per_pair),
                     round(float(np.mean([r["tau"] for r in per_pair])), 3),
                     f"{worst['mean']:.1f} ({worst['pair']})",
                     round(float(np.mean([r["seconds"] for r in per_pair])), 1)])
    return rows


def pooled(per_pair: list[dict]) -> str:
    """"mean error, within 3" over every frame of every pair at once (a long pair counts for more)."""
    frames = sum(r["frames"] for r in per_pair)
    return (f"{sum(r['error_sum'] for r in per_pair) / frames:.2f}, "
            f"{100 * sum(r['frames_within3'] for r in per_pair) / frames:.1f}%")


def predictors_line(rows: list[dict]) -> str:
    """How well each per-pair signal ranks the default's pairs by their true error (Spearman's rho)."""
    from scipy.stats import spearmanr

    err = [r["mean"] for r in rows]
    parts = []
    for key, label in [("confidence", "mean confidence"), ("cycle", "cycle inconsistency")]:
        rho, p = spearmanr([r[key] for r in rows], err)
        parts.append(f"{label} rho = {rho:.2f} (p = {p:.3f})")
    return f"Rank correlation with the default's error over the {len(rows)} pairs: {'; '.join(parts)}.\n"


def clip_of(pair_name: str) -> str:
    """The clip (or multi-camera scene) a pair comes from: the group left out together when the confidence's
    scaling is checked."""
    return pair_name.split("/")[0].split(" ")[0]


def confidence_section(rows: list[dict]) -> str:
    """The calibrated confidence on the default's frames: how it separates frames within 3 frames of the truth from
    the rest, how its values match the share that is, per frame and per pair; the posterior temperature compared;
    the scaling refitted on all frames and, left out one clip at a time, how it does on the clip it did not see."""
    from scipy.stats import spearmanr

    within3 = np.concatenate([r["frame_within3"] for r in rows]).astype(bool)
    confidence = np.concatenate([r["frame_confidence"] for r in rows])
    matched = np.concatenate([r["frame_matched"] for r in rows])
    group = np.concatenate([[clip_of(r["pair"])] * len(r["frame_within3"]) for r in rows])
    near = {g: np.concatenate([r["frame_near"][str(g)] for r in rows]) for g in TEMPERATURES}
    shipped = near[CONFIDENCE_GAMMA]
    refit = fit_platt(shipped, within3)
    held_out = matched * left_out(shipped, within3, group)
    temperature_rows = [[g, round(roc_auc(near[g], within3), 3)] for g in TEMPERATURES]
    share = [float(np.mean(r["frame_within3"])) for r in rows]
    predicted = [r["confidence"] for r in rows]
    rho = spearmanr(predicted, share).statistic
    bins = markdown_table(["confidence", "frames", "mean confidence", "share within 3 frames"],
                          [[b, n, round(c, 3), round(p, 3)] for b, n, c, p in reliability(confidence, within3)])
    return (f"**The per-frame confidence** (`gtalign.apps.confidence`): the probability that a frame is within 3 "
            f"frames of the truth, from the share of a soft posterior at temperature {CONFIDENCE_GAMMA} that lies near "
            f"the position, Platt-scaled with (a, b) = {PLATT}. Over the {len(within3)} frames of the {len(rows)} "
            f"pairs ({100 * within3.mean():.1f}% within 3 frames):\n\n"
            f"- area under the ROC curve {roc_auc(confidence, within3):.3f} (0.5: chance); expected calibration error "
            f"{calibration_error(confidence, within3):.3f};\n"
            f"- left out one clip at a time ({len(np.unique(group))} clips and scenes, the scaling fitted on the "
            f"others): area {roc_auc(held_out, within3):.3f}, calibration error "
            f"{calibration_error(held_out, within3):.3f};\n"
            f"- refitted on all frames of this run: (a, b) = ({refit[0]:.3f}, {refit[1]:.3f});\n"
            f"- per pair, the mean confidence against the share of its frames within 3 frames: Spearman's rho "
            f"{rho:.2f}, mean |difference| {np.mean(np.abs(np.subtract(predicted, share))):.3f}.\n\n"
            f"{bins}\nThe posterior's temperature, by the area under the ROC curve of its mass near the position: "
            + ", ".join(f"{g}: {a}" for g, a in temperature_rows) + ".\n")


def confidence_by_option(results: dict) -> str:
    """Per feature/path option: its mean confidence over the pairs' covered frames against the share of them within 3
    frames (the scaling was fitted on the default features' soft path only)."""
    from scipy.stats import spearmanr

    rows = []
    for name, per_pair in results.items():
        if per_pair[0].get("confidence") is None:  # no calibrated confidence (Drop-DTW, the plain paths)
            continue
        promised = np.array([r["confidence"] for r in per_pair])
        share = np.array([r["within3"] for r in per_pair])
        rho = spearmanr(promised, share).statistic
        rows.append([name, round(float(promised.mean()), 3), round(float(share.mean()), 3),
                     round(float(np.abs(promised - share).mean()), 3), round(float(rho), 2)])
    return ("\nThe confidence of every option, its mean over each pair's frames against the share of them within 3 "
            "frames (the scaling was fitted on the default only):\n\n"
            + markdown_table(["features, path", "mean confidence", "share within 3", "mean |difference| per pair",
                              "Spearman's rho over pairs"], rows))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one copy per clip instead of two")
    p.add_argument("--out", default="bench_out/align_real", help="work folder (copies, per-pair results)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-docs", action="store_true", help="do not update docs/results.md")
    args = p.parse_args()
    out = Path(args.out)
    t0 = time.perf_counter()
    pairs = make_pairs(cache_dir(), out, 1 if args.quick else 2)
    results, seconds, (cached, videos) = run(pairs, args.threads, out / "features")
    header = ["features, path", "mean error (frames)", "within 1 (%)", "within 3 (%)",
              "all frames pooled: mean error, within 3", "Kendall's tau",
              "worst pair", "s per pair"]
    rows = summary_rows(results)
    table = markdown_table(header, rows)
    default = results[f"{DEFAULT_FEATURES}, soft"]
    per_pair = markdown_table(["pair", "warp", "default error", "before error", "default confidence",
                               "default cycle (frames)"], [
        [pr.name, pr.warp, round(d["mean"], 2), round(b["mean"], 2), round(d["confidence"], 2), round(d["cycle"], 2)]
        for pr, d, b in zip(pairs, default, results["before: imagenet 224px, plain DTW"])])
    per_pair += "\n" + predictors_line(default) + "\n" + confidence_section(default) + confidence_by_option(results)
    (out / "results.json").write_text(json.dumps({"results": results, "feature_seconds": seconds}, indent=1))
    total = time.perf_counter() - t0
    reused = (f"The features of {cached} of the {videos} videos came from an earlier run's cache: the time above "
              "leaves out their extraction, and 's per pair' gives the seconds it took then.\n\n") if cached else ""
    text = (f"### Alignment on real footage (`make bench-align`, {len(pairs)} pairs, {total / 60:.1f} min)\n\n{reused}"
            f"{machine_line(machine_info())}\n\n{table}\nPer pair (default `{DEFAULT_FEATURES}`, soft path):\n\n"
            f"{per_pair}")
    publish(text, "align-real", not args.no_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
