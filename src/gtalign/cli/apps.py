"""`gtalign align | sync | audit | cam | retrieve | progress | transfer`: the parsers
(`gtalign.cli.commands.apps` runs them)."""
from __future__ import annotations

import argparse

from gtalign.argtypes import int_at_least, output_folder, positive_float
from gtalign.cli.lazy import command


def _common(p: argparse.ArgumentParser, checkpoint_help: str) -> None:
    p.add_argument("--checkpoint", default=None, help=checkpoint_help)
    p.add_argument("--fps", type=float, default=None, help="frame rate of frame folders and per-frame arrays "
                                                           "(default 30; video files keep their own)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


FEATURES_HELP = ("feature streams: 'pose', 'crop' (person crop), 'imagenet' (whole frame), combined with '+' and "
                 "weighted with ':'; default 'pose+crop:0.5+imagenet:0.5' (pose needs gtalign[pose])")


STRIDE_HELP = ("run the pose and appearance networks on every K-th frame only and interpolate their streams in "
               "between (motion is still measured on every frame): faster features for long videos (1.5x with K=2, "
               "2.2x with K=3), at a cost in precision (real-footage benchmark, K=2: mean error 2.40 frames instead "
               "of 1.94; docs/results.md). Default 1: every frame")
CKPT_HELP = "a gtalign checkpoint (default: ImageNet MobileNetV2 features from the local weights folder)"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("align", help="align videos to the first one (CSV, plot, side-by-side video, viewer)",
                              description="Embed the videos, align each to the first with DTW and write "
                                          "correspondence.csv, alignment.png, side_by_side.mp4, viewer.html and "
                                          "summary.json, and warn when a pair does not seem to show the same process.")
    p.add_argument("videos", nargs="+", help="video files or frame folders, or per-frame arrays (.npy with frames "
                                             "first, .csv with a row per frame; --fps gives their rate); the first "
                                             "is the reference")
    p.add_argument("-o", "--out", required=True, type=output_folder, help="output folder")
    _common(p, "a gtalign checkpoint (default: align by the --features streams)")
    p.add_argument("--fit", action="store_true",
                   help="first adapt an embedder to these videos (short self-supervised GTA training on frozen "
                        "ImageNet features); it is used only if it aligns held-out re-timed copies of the videos "
                        "better than the --features streams, which are used otherwise (summary.json: fit_check)")
    p.add_argument("--with", dest="with_dirs", action="append", metavar="DIR",
                   help="more videos (a dataset folder) to train on with --fit; repeatable")
    p.add_argument("--fit-steps", type=int_at_least(1), default=300, help="training steps of --fit (default 300)")
    p.add_argument("--fit-image-size", type=int_at_least(32, " pixels"), default=112,
                   help="frame size for --fit (pixels, default 112; larger is slower)")
    p.add_argument("--features", default=None, metavar="SPEC",
                   help=f"{FEATURES_HELP}. The default without --checkpoint (and the fallback of --fit); aligned on "
                        "a slope-limited path with open ends; adds position_b, matched and confidence columns to "
                        "correspondence.csv")
    p.add_argument("--stride", type=int_at_least(1), default=1, metavar="K",
                   help=STRIDE_HELP)
    p.add_argument("--soft", action="store_true",
                   help="with --checkpoint: smoothDTW expected alignment instead of the hard path")
    p.add_argument("--drop", action="store_true",
                   help="Drop-DTW: frames that match nothing anywhere (a pause, background, another scene) are "
                        "dropped, not only lead-in and trailing footage; no slope limit; summary.json lists them")
    p.add_argument("--gamma", type=positive_float, default=0.1, help="smoothDTW temperature for --soft (default 0.1)")
    p.add_argument("--max-side", default=480, type=int_at_least(16, " pixels"),
                   help="longest side of the written videos (pixels)")
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_align"))

    p = subparsers.add_parser("sync", help="clocks of several cameras of one event (offset and rate per camera)",
                              description="Synchronise cameras that share no clock, from their footage alone: "
                                          "align every pair, fit per camera t_cam = offset_s + rate * t_ref against "
                                          "the reference, combine all pairs, and write sync.json, sync.csv, "
                                          "residuals.png and viewer.html (all cameras in lockstep).")
    p.add_argument("videos", nargs="+", help="video files or frame folders, one per camera, or per-frame arrays "
                                             "(.npy with frames first, .csv with a row per frame; --fps gives "
                                             "their rate)")
    p.add_argument("-o", "--out", required=True, type=output_folder, help="output folder")
    p.add_argument("--reference", default=None,
                   help="the reference camera's file name, or its name in the outputs (cam1-GX010001 where file "
                        "names clash; default: the first video)")
    p.add_argument("--features", default=None, metavar="SPEC", help=FEATURES_HELP)
    p.add_argument("--write-videos", action="store_true",
                   help="also write synced/<name>.mp4: every camera with a clock re-timed onto the reference clock "
                        "over the time all cover, at the reference's frame rate")
    p.add_argument("--max-side", default=480, type=int_at_least(16, " pixels"),
                   help="longest side of the written videos (pixels)")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of frame folders and per-frame arrays (default 30)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_sync"))

    p = subparsers.add_parser("audit", help="check that a folder of videos is in sync (lists cameras that are off)",
                              description="Estimate each camera's offset and drift against the first (or "
                                          "--reference) as `gtalign sync` does, and list the cameras off by more "
                                          "than --tolerance frames anywhere in their footage; writes audit.json.")
    p.add_argument("folder", help="a folder of videos that should be synchronised")
    p.add_argument("-o", "--out", default=None, type=output_folder,
                   help="output folder (default FOLDER/gtalign_audit)")
    p.add_argument("--tolerance", type=positive_float, default=1.0, help="frames a camera may be off (default 1)")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when a camera is off or cannot be told")
    p.add_argument("--reference", default=None, help="the reference camera's file name (default: the first)")
    p.add_argument("--features", default=None, metavar="SPEC", help=FEATURES_HELP)
    p.add_argument("--max-side", type=int_at_least(16, " pixels"), default=480,
                   help="longest side of the viewer's videos (pixels)")
    p.add_argument("--fps", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_audit"))

    p = subparsers.add_parser("cam", help="activation maps of the representation over a video (mp4 + PNG)")
    p.add_argument("video", help="a video file or frame folder")
    p.add_argument("-o", "--out", required=True, type=output_folder, help="output folder")
    p.add_argument("--frames", type=int_at_least(1), default=8, help="frames on the contact sheet (default 8)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_cam"))

    p = subparsers.add_parser("retrieve", help="nearest frames to a query frame across a collection of videos")
    p.add_argument("--query", required=True, metavar="VIDEO:FRAME", help="query video and frame index")
    p.add_argument("--corpus", required=True, help="a dataset (folder of videos, manifest, ...)")
    p.add_argument("-k", type=int_at_least(1), default=10, help="number of frames to return (default 10)")
    p.add_argument("--index", default=None, help="where the corpus index is kept (default: a cache folder per "
                                                 "corpus and network)")
    p.add_argument("--include-query-video", action="store_true", help="also return frames of the query's video")
    p.add_argument("-o", "--out", default=".", type=output_folder,
                   help="folder for retrieval.json and retrieval.png (default .)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_retrieve"))

    p = subparsers.add_parser("progress", help="per-frame action progress (0-1) from the alignment to a reference")
    p.add_argument("video", help="a video file or frame folder")
    p.add_argument("--reference", required=True, help="a video of the whole action, start to end")
    p.add_argument("-o", "--out", default=".", type=output_folder,
                   help="folder for progress.csv and progress.png (default .)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_progress"))

    p = subparsers.add_parser("transfer", help="carry A's audio or a per-frame array onto B's timeline")
    p.add_argument("--from", dest="from_video", required=True, help="video A (the source of the audio/track)")
    p.add_argument("--to", dest="to_video", required=True, help="video B (the target timeline)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--audio", action="store_true", help="write B with A's re-timed audio (mp4)")
    what.add_argument("--track", help="a per-frame array of A (.npy, frames first, or .csv, a row per frame)")
    p.add_argument("-o", "--out", default=None, help="output file (default: derived from the names)")
    p.add_argument("--soft", action="store_true", help="smoothDTW expected alignment (tracks are interpolated)")
    p.add_argument("--max-side", type=int_at_least(16, " pixels"), default=480,
                   help="longest side of the written video (--audio)")
    _common(p, CKPT_HELP)
    p.set_defaults(func=command("gtalign.cli.commands.apps:run_transfer"))
