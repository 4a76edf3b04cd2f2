"""`gtalign data ...`: convert datasets to manifests, re-organize FineGym, inspect datasets, make synthetic data."""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from gtalign.errors import GtalignError


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", default="auto", help="dataset kind (auto, manifest, folder, tfrecord, pennaction, "
                                                  "finegym); auto guesses from the layout")
    p.add_argument("--split", choices=("train", "val", "test"), help="keep one split only")
    p.add_argument("--workers", type=int, default=2, help="decoding threads (default 2)")
    p.add_argument("--phases", help="PennAction: per-frame phase labels (folder of NNNN.txt/.npy or a JSON file)")
    p.add_argument("--videos", help="FineGym: folder of <youtube_id>.mp4 files (default SRC/videos)")
    p.add_argument("--label-set", choices=("gym99", "gym288"), help="FineGym: element label set (default gym99)")
    p.add_argument("--fps", type=float, help="FineGym: frames per second sampled from events (default 25)")


def _open(args: argparse.Namespace, path: str):
    from gtalign.data import open_source
    from gtalign.data.source import detect_kind

    options = {"phases": args.phases, "videos": args.videos, "label_set": args.label_set, "fps": args.fps}
    kwargs = {k: v for k, v in options.items() if v is not None}
    kind = detect_kind(path) if args.kind == "auto" else args.kind
    if kind != "manifest":
        kwargs["workers"] = args.workers
    try:
        return open_source(path, kind=kind, split=args.split, **kwargs)
    except TypeError as e:
        given = ", ".join(f"--{k.replace('_', '-')}" for k in options if options[k] is not None)
        raise GtalignError(f"option(s) {given} do not apply to this kind of dataset ({e})") from e


def cmd_convert(args: argparse.Namespace) -> int:
    from gtalign.data.convert import convert

    source = _open(args, args.src)
    path = convert(source, args.out, mode=args.mode, size=args.size, name=args.name, workers=args.workers)
    print(f"wrote {path} ({len(source)} videos; {len(source.skipped)} skipped as unreadable)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    source = _open(args, args.path)
    entries = source.entries
    frames = [e.num_frames for e in entries]
    print(f"{source.manifest.name}: {len(entries)} videos, {sum(frames)} frames "
          f"(min {min(frames)}, mean {sum(frames) / len(frames):.1f}, max {max(frames)} per video)")
    print("splits: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(e.split for e in entries).items())))
    by_class = Counter(e.class_name or "(none)" for e in entries)
    print(f"classes ({len(by_class)}): " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())))
    labelled = [e for e in entries if e.labels is not None]
    values = sorted({int(v) for e in labelled for v in e.labels})
    print(f"per-frame labels: {len(labelled)} of {len(entries)} videos"
          + (f", values {values[0]}..{values[-1]} ({len(values)} distinct)" if values else ""))
    if source.skipped:
        print(f"skipped {len(source.skipped)} unreadable videos (see the warnings above)")
    return 0


def _parse_orders(items: list[str] | None) -> dict[str, list[int]]:
    orders: dict[str, list[int]] = {}
    for item in items or []:
        event, _, sets = item.partition("=")
        try:
            orders[event.strip()] = [int(s) for s in sets.split(",") if s.strip()]
        except ValueError as e:
            raise GtalignError(f"--order must look like FX=21,22,24,25, got {item!r}") from e
        if not event.strip() or not orders[event.strip()]:
            raise GtalignError(f"--order must look like FX=21,22,24,25, got {item!r}")
    return orders


def cmd_finegym_reorganize(args: argparse.Namespace) -> int:
    from gtalign.data.finegym import open_finegym
    from gtalign.data.finegym_reorganize import reorganize

    source = open_finegym(Path(args.root), split=args.split, videos=args.videos, label_set=args.label_set,
                          fps=args.fps, workers=args.workers)
    path = reorganize(source, args.out, orders=_parse_orders(args.order), workers=args.workers)
    print(f"wrote {path} and {Path(args.out) / 'prototype_orders.json'}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from gtalign.data.synth import generate_dataset

    path = generate_dataset(args.out, num_classes=args.classes, videos_per_class=args.videos_per_class,
                            min_frames=args.min_frames, max_frames=args.max_frames, image_size=args.size,
                            seed=args.seed, workers=args.workers, difficulty=args.difficulty)
    print(f"wrote {path}")
    return 0


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="prepare and inspect video datasets")
    sub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)

    p = sub.add_parser("convert", help="convert any dataset to a gtalign manifest (+ frame folders or links)")
    p.add_argument("src", help="dataset path (folder, manifest, .tfrecord, PennAction or FineGym root)")
    p.add_argument("-o", "--out", required=True, help="output folder (manifest.json is written there)")
    p.add_argument("--mode", choices=("auto", "link", "frames"), default="auto",
                   help="link to the original videos or write JPEG frames (auto: link when possible)")
    p.add_argument("--size", type=int, help="with frames: resize so the short side is SIZE pixels")
    p.add_argument("--name", help="dataset name stored in the manifest")
    _add_source_options(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("info", help="counts of videos, frames, classes, splits and labels of a dataset")
    p.add_argument("path", help="dataset path")
    _add_source_options(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("finegym-reorganize", help="re-order FineGym set-level clips into one prototype order "
                                                  "per event type (supplement Sec. 3)")
    p.add_argument("root", help="folder with the FineGym annotation JSON, category and element files")
    p.add_argument("--videos", help="folder of <youtube_id>.mp4 files (default ROOT/videos)")
    p.add_argument("-o", "--out", required=True, help="output folder for videos/, labels and manifest.json")
    p.add_argument("--label-set", choices=("gym99", "gym288"), default="gym99")
    p.add_argument("--fps", type=float, default=25.0, help="frames per second of the written videos")
    p.add_argument("--order", action="append", metavar="EVENT=SET,SET,...",
                   help="prototype order of sets for an event type, e.g. FX=21,22,24,25 (default: by mean "
                        "normalized onset); repeatable")
    p.add_argument("--split", choices=("train", "val"))
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_finegym_reorganize)

    p = sub.add_parser("synth", help="generate the synthetic action dataset")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--videos-per-class", type=int, default=40)
    p.add_argument("--min-frames", type=int, default=40)
    p.add_argument("--max-frames", type=int, default=120)
    p.add_argument("--size", type=int, default=112, help="frame size in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--difficulty", choices=("easy", "hard"), default="easy",
                   help="easy: mild time warps, static camera; hard: timing a clock cannot predict, moving camera, "
                        "changing light, a distractor (docs/synthetic.md)")
    p.set_defaults(func=cmd_synth)
