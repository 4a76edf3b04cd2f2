"""How fast `gtalign align` is on long full-HD footage, stage by stage: decode, features, alignment, writing.

Two 60-second 1080p 30 fps H.264 videos are made from a real clip (Sports2D's demo of a person walking, played
forwards and backwards so the motion never cuts; the second starts elsewhere in the loop and is mirrored). Then the
library runs the stages of `gtalign align A B` with the default features, one after the other, each timed:

- decode: every frame of both videos decoded (the features stage decodes again: this row shows its share);
- features: the default feature streams of every frame (decode included);
- alignment: the cost matrix and the constrained path;
- writing: the outputs of `gtalign align` (side-by-side video, viewer, plots, CSV) from the display frames the
  features pass kept (`apps.display`).

The goal of the project is the whole run in at most 60 s on 2 cores (faster than real time). `docs/performance.md`
gets the table (frames per second per stage over the frames of both videos).

With ``--sync N``: `gtalign sync` on N such cameras (the goal: 4 cameras in at most 2 minutes), its own table.

Usage: ``make bench-app`` or ``python benchmarks/app_speed.py [--seconds 60] [--threads 2] [--stride K]
[--sync N] [--no-docs]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402
from fetch_clips import cache_dir  # noqa: E402

from gtalign.apps.align import align_videos, extract_all, feature_alignments  # noqa: E402
from gtalign.apps.display import display_taps  # noqa: E402
from gtalign.apps.features import DEFAULT_FEATURES, FeatureExtractor  # noqa: E402
from gtalign.apps.inputs import open_videos  # noqa: E402
from gtalign.apps.sync_run import sync_videos  # noqa: E402
from gtalign.data.video import iter_video  # noqa: E402

SIZE = (1920, 1080)  # width, height
MAX_SIDE = 480       # align's default size of the written videos
FPS = 30


def _loop(frames: list[np.ndarray], n: int, start: int) -> list[int]:
    """Indices of a forwards-and-backwards loop over `frames`, `n` long, from `start`."""
    period = 2 * len(frames) - 2
    return [(lambda k: k if k < len(frames) else period - k)((start + i) % period) for i in range(n)]


def make_videos(out: Path, seconds: float, cameras: int = 2) -> tuple[Path, ...]:
    """`cameras` long 1080p videos of the same walking person, each starting elsewhere in the loop, every second one
    mirrored (cached in `out`)."""
    import av
    from PIL import Image

    clip = cache_dir() / "demo.mp4"
    if not clip.exists():
        raise SystemExit(f"app_speed: {clip} is missing; run `make clips` first")
    n = int(round(seconds * FPS))
    paths = tuple(out / f"long_{'abcdefgh'[k]}_{n}.mp4" for k in range(cameras))
    if all(p.exists() for p in paths):
        return paths
    out.mkdir(parents=True, exist_ok=True)
    frames = [np.asarray(Image.fromarray(f).resize(SIZE, Image.BILINEAR)) for f in iter_video(clip)]
    starts = [0, len(frames) // 2, len(frames) // 4, 3 * len(frames) // 4, *range(1, cameras)][:cameras]
    for k, (path, start) in enumerate(zip(paths, starts)):
        mirror = k % 2 == 1
        if path.exists():
            continue
        tmp = path.with_suffix(".tmp.mp4")
        with av.open(str(tmp), "w") as container:
            stream = container.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
            stream.options = {"crf": "23", "preset": "veryfast"}
            for i in _loop(frames, n, start):
                frame = frames[i][:, ::-1] if mirror else frames[i]
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        tmp.rename(path)
    return paths


def run(paths: tuple[Path, ...], out: Path, stride: int = 1) -> list[dict]:
    stages = []
    t = time.perf_counter()
    count = sum(1 for p in paths for _ in iter_video(p))
    stages.append({"stage": "decode (alone)", "seconds": time.perf_counter() - t, "frames": count})
    t = time.perf_counter()
    source = open_videos(list(paths))
    stages.append({"stage": "open (count frames)", "seconds": time.perf_counter() - t, "frames": count})
    extractor = FeatureExtractor(DEFAULT_FEATURES, stride=stride)
    displays = display_taps(source, MAX_SIDE)  # the display frames are kept as the features pass decodes
    t = time.perf_counter()
    feats = extract_all(source, extractor, progress=False, displays=displays)
    stages.append({"stage": "features (decode included)", "seconds": time.perf_counter() - t, "frames": count})
    t = time.perf_counter()
    feature_alignments(source, extractor, features=feats, progress=False)
    stages.append({"stage": "alignment", "seconds": time.perf_counter() - t, "frames": count})
    t = time.perf_counter()
    align_videos(source, None, out / "align_out", max_side=MAX_SIDE, progress=False, extractor=extractor,
                 features=feats, displays=displays)
    seconds = time.perf_counter() - t
    stages.append({"stage": "writing (alignment again included)", "seconds": seconds, "frames": count})
    return stages


def run_sync(paths: tuple[Path, ...], out: Path, stride: int = 1) -> list[dict]:
    """`gtalign sync` on the videos: open (count frames), then features, clocks and the viewer's videos."""
    source_t = time.perf_counter()
    source = open_videos(list(paths))
    stages = [{"stage": "open (count frames)", "seconds": time.perf_counter() - source_t}]
    t = time.perf_counter()
    sync_videos(source, FeatureExtractor(DEFAULT_FEATURES, stride=stride), out / "sync_out", progress=False)
    stages.append({"stage": "features, clocks and the viewer's videos", "seconds": time.perf_counter() - t})
    return stages


def sync_main(args) -> int:
    paths = make_videos(Path(args.out), args.seconds, args.sync)
    stages = run_sync(paths, Path(args.out), args.stride)
    total = sum(s["seconds"] for s in stages)
    frames = len(paths) * int(round(args.seconds * FPS))
    rows = [[s["stage"], round(s["seconds"], 1), round(frames / s["seconds"], 1)] for s in stages]
    rows.append(["whole `sync`", round(total, 1), round(frames / total, 1)])
    table = markdown_table(["stage", "seconds", "frames/s (all cameras)"], rows)
    text = (f"### `gtalign sync` on {len(paths)} cameras of {args.seconds:.0f} s, 1080p {FPS} fps "
            f"(`benchmarks/app_speed.py --sync {len(paths)}`)\n\n{machine_line(machine_info())}\n\n"
            f"Default features `{DEFAULT_FEATURES}`" + (f", `--stride {args.stride}`" if args.stride > 1 else "")
            + f"; the goal is 2 minutes for 4 cameras: this run took {total / 120:.2f}x that.\n\n{table}")
    publish(text, "sync-speed", not args.no_docs, doc="docs/performance.md")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of each video")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="bench_out/app_speed")
    p.add_argument("--stride", type=int, default=1, help="align --stride K (default 1: every frame)")
    p.add_argument("--sync", type=int, default=0, metavar="N",
                   help="time `gtalign sync` on N cameras instead of `align` on two videos")
    p.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.sync:
        return sync_main(args)
    out = Path(args.out)
    paths = make_videos(out, args.seconds)
    stages = run(paths, out, args.stride)
    # what `gtalign align` runs: open, features, then alignment and writing (the writing row aligns again)
    total = sum(s["seconds"] for s in stages if s["stage"] not in ("decode (alone)", "alignment"))
    rows = [[s["stage"], round(s["seconds"], 1), round(s["frames"] / s["seconds"], 1),
             "-" if s["stage"] in ("decode (alone)", "alignment") else f"{100 * s['seconds'] / total:.0f}%"]
            for s in stages]
    rows.append(["whole `align` (open + features + writing)", round(total, 1), round(stages[0]["frames"] / total, 1),
                 f"{total / 60:.2f}x the goal of 60 s"])
    table = markdown_table(["stage", "seconds", "frames/s (both videos)", "share of the run"], rows)
    text = (f"### `gtalign align` on two {args.seconds:.0f} s 1080p {FPS} fps videos (`benchmarks/app_speed.py`)\n\n"
            f"{machine_line(machine_info())}\n\nDefault features `{DEFAULT_FEATURES}`"
            + (f", `--stride {args.stride}`" if args.stride > 1 else "") + f".\n\n{table}")
    publish(text, "app-speed", not args.no_docs, doc="docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
