"""`gtalign data ...` (convert datasets to manifests, re-organize FineGym, inspect datasets, make synthetic data):
the parsers (`gtalign.cli.commands.data` runs them)."""
from __future__ import annotations

import argparse

from gtalign.cli.lazy import command


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", default="auto", help="dataset kind (auto, manifest, folder, tfrecord, pennaction, "
                                                  "finegym); auto guesses from the layout")
    p.add_argument("--split", choices=("train", "val", "test"), help="keep one split only")
    p.add_argument("--workers", type=int, default=2, help="decoding threads (default 2)")
    p.add_argument("--phases", help="PennAction: per-frame phase labels (folder of NNNN.txt/.npy or a JSON file)")
    p.add_argument("--videos", help="FineGym: folder of <youtube_id>.mp4 files (default SRC/videos)")
    p.add_argument("--label-set", choices=("gym99", "gym288"), help="FineGym: element label set (default gym99)")
    p.add_argument("--fps", type=float, help="FineGym: frames per second sampled from events (default 25)")


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
    p.set_defaults(func=command("gtalign.cli.commands.data:run_convert"))

    p = sub.add_parser("info", help="counts of videos, frames, classes, splits and labels of a dataset")
    p.add_argument("path", help="dataset path")
    _add_source_options(p)
    p.set_defaults(func=command("gtalign.cli.commands.data:run_info"))

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
    p.set_defaults(func=command("gtalign.cli.commands.data:run_finegym_reorganize"))

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
    p.set_defaults(func=command("gtalign.cli.commands.data:run_synth"))
