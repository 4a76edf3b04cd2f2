"""Synchronising cameras with known clocks: how far is each recovered clock from the truth?

Scenes (real footage, `fetch_clips.py`; `make clips`):

- Pose2Sim's demos: four real, synchronised cameras of one person, and of the same person with a bystander.
- Single-camera clips (Sports2D's walker, OpenCV's pedestrians, a bouncing ball, ...): three "cameras" of each,
  changed in appearance as another camera would change them (`gtalign.data.retime.random_change`).

Every camera gets its own clock: a start (0-20% of the footage cut), an end cut, a frame rate (25, 30, 50 or 60 fps)
and a drift (its clock runs up to 0.5% fast or slow, so two cameras differ by up to 1%). Two scenes also get a
camera from another scene, which overlaps nothing and must be flagged. The first camera is the reference.

For each camera: the error of the recovered clock against the true one, averaged over the reference times both
cover, in frames at 60 fps (and of the camera's own rate), its confidence and status. Methods side by side:
`gtalign sync` (default features), and the constant-offset methods users have today, implemented here from their
description: cross-correlation of motion energy (mean absolute frame difference) and, where a person is visible, of
keypoint vertical speed (BlazePose). `docs/results.md` gets the table (section ``sync-real``).

Usage: ``python benchmarks/sync_real.py [--out DIR] [--no-docs]``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from align_real import SOURCE_SIDE, _frames, cached_features, feature_key  # noqa: E402
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402
from fetch_clips import cache_dir  # noqa: E402

from gtalign.apps.features import FeatureExtractor, FeatureSpec  # noqa: E402
from gtalign.apps.sync import sync_from_pairs, sync_json  # noqa: E402
from gtalign.apps.sync_run import audit_rows, pairwise_clocks  # noqa: E402
from gtalign.data.retime import Warp, random_change  # noqa: E402
from gtalign.data.video import iter_video, probe_video, write_video  # noqa: E402

#: (scene, its cameras' source clips, frames used at most, appearance change strength)
SCENES = (("p2s_single", [f"p2s_single_cam{k:02d}.mp4" for k in (1, 2, 3, 4)], None, 0.0),
          ("p2s_multi", [f"p2s_multi_cam{k:02d}.mp4" for k in (1, 2, 3, 4)], None, 0.0),
          ("demo", ["demo.mp4"] * 3, None, 1.0), ("vtest", ["vtest.avi"] * 3, 400, 1.0),
          ("balle-jbart", ["balle-jbart.mp4"] * 3, None, 1.0), ("box", ["box.mp4"] * 3, None, 1.0),
          ("Megamind", ["Megamind.avi"] * 3, None, 1.0), ("cup", ["cup.mp4"] * 3, None, 1.0))
#: scene -> the scene whose first camera is added to it as a camera that overlaps nothing
FOREIGN = {"p2s_single": "box", "demo": "p2s_multi"}
FPS_CHOICES = (25.0, 30.0, 50.0, 60.0)


@dataclass
class Camera:
    scene: str
    name: str
    path: Path
    fps: float
    start_s: float       # source time of the camera's first frame
    drift: float         # source seconds per camera second
    duration_s: float
    foreign: bool = False

    def true_time(self, source_t: np.ndarray) -> np.ndarray:
        """The camera's own time showing source time `source_t`."""
        return (source_t - self.start_s) / self.drift


def make_cameras(clips: Path, out: Path) -> dict[str, list[Camera]]:
    scenes: dict[str, list[Camera]] = {}
    (out / "videos").mkdir(parents=True, exist_ok=True)
    for s, (scene, sources, limit, strength) in enumerate(SCENES):
        cams = []
        for k, clip in enumerate(sources):
            src = clips / clip
            if not src.exists():
                raise SystemExit(f"sync_real: {src} is missing; run `make clips` first")
            rng = np.random.default_rng(7000 + 100 * s + k)
            fps0 = probe_video(src).fps
            frames = _frames(src, limit, SOURCE_SIDE)
            duration = len(frames) / fps0
            start, end = rng.uniform(0.0, 0.2) * duration, rng.uniform(0.0, 0.1) * duration
            drift, fps = float(rng.uniform(0.995, 1.005)), float(rng.choice(FPS_CHOICES))
            times = start + drift * np.arange(0.0, (duration - start - end) / drift, 1.0 / fps)
            path = out / "videos" / f"{scene}_cam{k}.mp4"
            meta = path.with_suffix(".json")
            change = random_change(rng, strength) if strength > 0 else None
            record = {"start": start, "drift": drift, "fps": fps, "n": len(times),
                      "change": change.to_json() if change else None}
            if not (path.exists() and meta.exists() and json.loads(meta.read_text()) == json.loads(json.dumps(record))):
                idx = Warp(times, fps, "").source_frames(fps0, len(frames))
                shown = [frames[int(i)] if change is None else change.apply(frames[int(i)]) for i in idx]
                write_video(path, np.stack(shown), fps, quality=8)
                meta.write_text(json.dumps(record))
            cams.append(Camera(scene, path.name, path, fps, start, drift, len(times) / fps))
        scenes[scene] = cams
    for scene, other in FOREIGN.items():
        c = scenes[other][0]
        scenes[scene].append(Camera(scene, f"{c.name} (foreign)", c.path, c.fps, c.start_s, c.drift, c.duration_s,
                                    foreign=True))
    return scenes


def clock_error_frames(offset_s: float, rate: float, ref: Camera, cam: Camera, fps: float = 60.0) -> float:
    """Mean |recovered - true| camera time over the reference times both cover, in frames at `fps`."""
    t_ref = np.linspace(0.0, ref.duration_s, 400)
    source = ref.start_s + ref.drift * t_ref
    true = cam.true_time(source)
    inside = (true >= 0) & (true <= cam.duration_s)
    if not inside.any():
        return float("nan")
    return float(np.abs(offset_s + rate * t_ref[inside] - true[inside]).mean() * fps)


def true_off_frames(ref: Camera, cam: Camera) -> float:
    """How far (camera frames) the camera is from being in sync with the reference at the worse end of its footage
    (what `gtalign audit` estimates)."""
    ends = np.array([0.0, cam.duration_s])  # camera times; in sync would mean the reference shows the same instant
    source = cam.start_s + cam.drift * ends
    t_ref = (source - ref.start_s) / ref.drift
    return float(np.abs(ends - t_ref).max() * cam.fps)


# ---- the constant-offset baselines --------------------------------------------------------------------------------

def motion_energy(path: Path) -> np.ndarray:
    """(T,) mean absolute difference between consecutive grey frames at 96 px (the first repeats the second)."""
    from PIL import Image

    prev, out = None, []
    for f in iter_video(path):
        g = np.asarray(Image.fromarray(f).convert("L").resize((96, 96), Image.BILINEAR), dtype=np.float32)
        out.append(0.0 if prev is None else float(np.abs(g - prev).mean()))
        prev = g
    out[0] = out[1] if len(out) > 1 else 0.0
    return np.array(out)


def keypoint_speed(path: Path, cache: Path) -> np.ndarray | None:
    """(T,) summed absolute vertical speed of BlazePose's keypoints (image heights per second, in torso lengths),
    or None where a person is found on fewer than half of the frames."""
    from gtalign.apps.pose import _torso, fill_gaps, track_people

    key = cache / f"{path.stem}-{path.stat().st_size}-kp.npy"
    if key.exists():
        y = np.load(key)
    else:
        track = track_people(iter_video(path), max_people=1)[0]
        if track.valid_fraction < 0.5:
            y = np.zeros((0, 33))
        else:
            img = fill_gaps(track.image, track.valid)
            y = img[:, :, 1] / _torso(img)[:, None]
        cache.mkdir(parents=True, exist_ok=True)
        np.save(key, y)
    if len(y) == 0:
        return None
    return np.abs(np.gradient(y, axis=0)).sum(axis=1)


def xcorr_offset(sig_ref: np.ndarray, fps_ref: float, sig_cam: np.ndarray, fps_cam: float, rate_hz: float = 120.0,
                 smooth_s: float = 0.05) -> float:
    """The constant offset (camera time - reference time, seconds) maximising the normalised cross-correlation of
    two per-frame signals, resampled to `rate_hz`, over lags that keep at least a third of the shorter overlapping."""
    from scipy.ndimage import gaussian_filter1d

    def resample(sig, fps):
        t = np.arange(0.0, len(sig) / fps, 1.0 / rate_hz)
        x = gaussian_filter1d(np.interp(t, np.arange(len(sig)) / fps, sig), smooth_s * rate_hz)
        return (x - x.mean()) / (x.std() + 1e-12)

    a, b = resample(sig_ref, fps_ref), resample(sig_cam, fps_cam)
    least = max(3, min(len(a), len(b)) // 3)
    best, best_lag = -np.inf, 0
    for lag in range(-(len(a) - least), len(b) - least + 1):  # camera index = reference index + lag
        i0, i1 = max(0, -lag), min(len(a), len(b) - lag)
        if i1 - i0 < least:
            continue
        x, y = a[i0:i1], b[i0 + lag:i1 + lag]
        x, y = x - x.mean(), y - y.mean()
        c = float((x * y).sum() / (np.sqrt((x * x).sum() * (y * y).sum()) + 1e-12))
        if c > best:
            best, best_lag = c, lag
    return best_lag / rate_hz


# ---- the run -------------------------------------------------------------------------------------------------------

def run(scenes: dict[str, list[Camera]], out: Path, stride: int = 1) -> tuple[list[dict], int]:
    """Every scene synced, with both baselines: (one row per camera after each reference, videos whose features
    came from the cache)."""
    import torch

    torch.set_num_threads(2)
    extractor = FeatureExtractor("pose+crop+imagenet", stride=stride)
    spec = FeatureSpec.parse("pose+crop:0.5+imagenet:0.5")
    videos = [c.path for cams in scenes.values() for c in cams]
    cached = sum(feature_key(extractor, v, out / "features").with_suffix(".json").exists() for v in videos)
    rows = []
    for scene, cams in scenes.items():
        feats = [cached_features(extractor, c.path, c.fps, out / "features") for c in cams]
        t0 = time.perf_counter()  # the features' own seconds are added below, whether extracted now or cached
        fps = [c.fps for c in cams]
        pairs = pairwise_clocks([f for f, _ in feats], fps, spec, progress=False)
        result = sync_from_pairs(pairs, len(cams), 0, fps)
        verdicts = audit_rows(sync_json(result, [c.name for c in cams], fps, [c.duration_s for c in cams]), 1.0)
        seconds = (time.perf_counter() - t0 + sum(s for _, s in feats)) / len(cams)
        ref = cams[0]
        energy = [motion_energy(c.path) for c in cams]
        speed = [keypoint_speed(c.path, out / "keypoints") for c in cams]
        for cam, clock in zip(cams[1:], result.cameras[1:]):
            k = cams.index(cam)
            row = {"scene": scene, "camera": cam.name, "fps": cam.fps, "foreign": cam.foreign,
                   "status": clock.status, "confidence": clock.confidence, "seconds_per_camera": seconds,
                   "gtalign": None if clock.clock is None or cam.foreign else
                   clock_error_frames(clock.clock.offset_s, clock.clock.rate, ref, cam),
                   "rate": None if clock.clock is None else clock.clock.rate,
                   "true_rate": ref.drift / cam.drift, "reason": clock.reason, "audit_off": verdicts[k]["off"],
                   "true_off_frames": true_off_frames(ref, cam),
                   # what the confidence is made of, for calibrating it
                   "error_frames": clock.error_frames,
                   "share": max((p.share for p in pairs if k in (p.a, p.b)), default=0.0),
                   "contrast": max((p.distinct for p in pairs if k in (p.a, p.b)), default=0.0)}
            if not cam.foreign:
                row["motion xcorr"] = clock_error_frames(xcorr_offset(energy[0], ref.fps, energy[k], cam.fps), 1.0,
                                                         ref, cam)
                row["keypoint xcorr"] = (None if speed[0] is None or speed[k] is None else clock_error_frames(
                    xcorr_offset(speed[0], ref.fps, speed[k], cam.fps), 1.0, ref, cam))
            rows.append(row)
            print(f"{scene} {cam.name}: gtalign {row['gtalign']} ({clock.status}, {clock.confidence:.2f}), "
                  f"motion {row.get('motion xcorr')}, keypoints {row.get('keypoint xcorr')}", file=sys.stderr,
                  flush=True)
    return rows, cached


def _mean(values) -> str:
    """Mean and median of the finite values, as text."""
    v = [x for x in values if x is not None and np.isfinite(x)]
    return f"{np.mean(v):.2f} (median {np.median(v):.2f})" if v else "-"


def tables(rows: list[dict]) -> str:
    real = [r for r in rows if not r["foreign"]]
    ok = [r for r in real if r["status"] == "ok"]
    kp = [r for r in real if r.get("keypoint xcorr") is not None]
    summary = [
        ["gtalign sync, cameras marked ok", f"{len(ok)}/{len(real)}", _mean(r["gtalign"] for r in ok),
         f"{100 * np.mean([r['gtalign'] <= 1 for r in ok]):.0f}" if ok else "-"],
        ["gtalign sync, every camera with a clock", f"{sum(r['gtalign'] is not None for r in real)}/{len(real)}",
         _mean(r["gtalign"] for r in real),
         f"{100 * np.mean([r['gtalign'] is not None and r['gtalign'] <= 1 for r in real]):.0f}"],
        ["motion-energy cross-correlation (constant offset)", f"{len(real)}/{len(real)}",
         _mean(r["motion xcorr"] for r in real), f"{100 * np.mean([r['motion xcorr'] <= 1 for r in real]):.0f}"],
        ["keypoint vertical speed cross-correlation (constant offset)", f"{len(kp)}/{len(real)}",
         _mean(r["keypoint xcorr"] for r in kp),
         f"{100 * np.mean([r['keypoint xcorr'] <= 1 for r in kp]):.0f}" if kp else "-"],
        ["gtalign sync on the cameras keypoints can do", f"{len(kp)}/{len(real)}", _mean(r["gtalign"] for r in kp),
         f"{100 * np.mean([r['gtalign'] is not None and r['gtalign'] <= 1 for r in kp]):.0f}" if kp else "-"],
    ]
    head = markdown_table(["method", "cameras", "clock error, frames at 60 fps: mean (median)", "within 1 frame (%)"],
                          summary)
    foreign = [r for r in rows if r["foreign"]]
    flagged = sum(r["status"] == "unreliable" for r in foreign)
    wrong_ok = [r for r in ok if r["gtalign"] > 1]
    missed = [r for r in real if r["status"] == "unreliable" and r["gtalign"] is not None and r["gtalign"] <= 1]
    per = markdown_table(
        ["scene", "camera", "fps", "gtalign error", "status", "confidence", "rate (true)", "motion xcorr",
         "keypoint xcorr"],
        [[r["scene"], r["camera"], f"{r['fps']:g}", "-" if r["gtalign"] is None else f"{r['gtalign']:.2f}",
          r["status"], f"{r['confidence']:.2f}",
          "-" if r["rate"] is None else f"{r['rate']:.4f} ({r['true_rate']:.4f})",
          "-" if r.get("motion xcorr") is None else f"{r['motion xcorr']:.2f}",
          "-" if r.get("keypoint xcorr") is None else f"{r['keypoint xcorr']:.2f}"] for r in rows])
    seconds = np.mean([r["seconds_per_camera"] for r in rows])
    off = [r for r in real if r["true_off_frames"] > 1.0]
    audit = (f"`gtalign audit` (tolerance 1 frame) on the same cameras: of {len(off)} cameras truly off by more than "
             f"1 frame, {sum(r['audit_off'] is True for r in off)} are flagged OFF, "
             f"{sum(r['audit_off'] is None for r in off)} 'cannot tell' (both fail `--strict`), "
             f"{sum(r['audit_off'] is False for r in off)} wrongly 'in sync'.")
    return (f"{head}\nTime per camera, features and all pairs of its scene: {seconds:.1f} s (features extracted once "
            f"and cached in the work folder; a rerun only aligns).\n\n{audit}\n\nCameras that overlap nothing: "
            f"{flagged} of {len(foreign)} flagged unreliable. Cameras marked ok "
            f"but more than 1 frame off: {len(wrong_ok)}; cameras within 1 frame but marked unreliable: "
            f"{len(missed)}.\n\nPer camera (errors in frames at 60 fps; the first camera of each scene is the "
            f"reference):\n\n{per}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench_out/sync_real", help="work folder (cameras, features)")
    p.add_argument("--stride", type=int, default=1,
                   help="`sync --stride K` (default 1); K > 1 publishes to its own section (sync-stride)")
    p.add_argument("--no-docs", action="store_true", help="do not update docs/results.md")
    args = p.parse_args()
    out = Path(args.out)
    t0 = time.perf_counter()
    scenes = make_cameras(cache_dir(), out)
    rows, cached = run(scenes, out, args.stride)
    (out / "results.json").write_text(json.dumps(rows, indent=1))
    n = sum(len(c) - 1 for c in scenes.values())
    videos = sum(len(c) for c in scenes.values())
    reused = (f"The features of {cached} of the {videos} videos came from an earlier run's cache: the time above "
              "leaves out their extraction; the time per camera below includes it.\n\n") if cached else ""
    how = "`make bench-sync`" if args.stride == 1 else f"`benchmarks/sync_real.py --stride {args.stride}`"
    text = (f"### Synchronising cameras with known clocks ({how}, {len(scenes)} scenes, {n} cameras, "
            f"{(time.perf_counter() - t0) / 60:.1f} min)\n\n{reused}{machine_line(machine_info())}\n\n{tables(rows)}")
    publish(text, "sync-real" if args.stride == 1 else "sync-stride", not args.no_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
