"""`gtalign data convert | info | finegym-reorganize | synth`: run the data layer on parsed arguments."""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from gtalign.data import open_source
from gtalign.data.convert import convert
from gtalign.data.finegym import open_finegym
from gtalign.data.finegym_reorganize import reorganize
from gtalign.data.source import detect_kind
from gtalign.data.synth import generate_dataset
from gtalign.errors import GtalignError


def _open(args: argparse.Namespace, path: str):
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


def run_convert(args: argparse.Namespace) -> int:
    source = _open(args, args.src)
    path = convert(source, args.out, mode=args.mode, size=args.size, name=args.name, workers=args.workers)
    print(f"wrote {path} ({len(source)} videos; {len(source.skipped)} skipped as unreadable)")
    return 0


def run_info(args: argparse.Namespace) -> int:
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


def run_finegym_reorganize(args: argparse.Namespace) -> int:
    source = open_finegym(Path(args.root), split=args.split, videos=args.videos, label_set=args.label_set,
                          fps=args.fps, workers=args.workers)
    path = reorganize(source, args.out, orders=_parse_orders(args.order), workers=args.workers)
    print(f"wrote {path} and {Path(args.out) / 'prototype_orders.json'}")
    return 0


def run_synth(args: argparse.Namespace) -> int:
    path = generate_dataset(args.out, num_classes=args.classes, videos_per_class=args.videos_per_class,
                            min_frames=args.min_frames, max_frames=args.max_frames, image_size=args.size,
                            seed=args.seed, workers=args.workers, difficulty=args.difficulty)
    print(f"wrote {path}")
    return 0
