"""`gtalign train` and `gtalign embed`: the parsers (`gtalign.cli.commands.train` runs them)."""
from __future__ import annotations

import argparse

from gtalign.cli.lazy import command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train an embedding network",
                              description="Train an embedding network from a YAML config. Overrides use the "
                                          "config's section names, e.g. data.root=DIR train.max_steps=100 "
                                          "train.log_dir=DIR. Several processes: torchrun --nproc-per-node N "
                                          "-m gtalign train ...")
    p.add_argument("--config", required=True, help="YAML config file (see configs/)")
    p.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides")
    p.add_argument("--resume", action="store_true", help="continue from {train.log_dir}/last.pt")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=command("gtalign.cli.commands.train:run_train"))

    p = subparsers.add_parser("embed", help="embed every frame of a dataset's videos with a checkpoint",
                              description="Write one <video id>.npy (num_frames, D) per video and index.json to "
                                          "OUT; videos already embedded are skipped.")
    p.add_argument("checkpoint", help="a checkpoint file (ckpt_N.pt, last.pt) or a run folder")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="a dataset (manifest, folder, TFRecords, ...)")
    source.add_argument("--videos", nargs="+", help="video files or frame folders")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--split", choices=["train", "val", "test"], default=None, help="only this split of --data")
    p.add_argument("--kind", default="auto", help="dataset kind of --data (default: guessed)")
    p.add_argument("--chunk", type=int, default=64, help="frames per forward pass (default 64)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--feature-cache", metavar="DIR", default=True,
                       help="read a frozen trunk's cached features from this folder instead of running the trunk "
                            "(default: the checkpoint's training cache, model.cache_dir, if it is there); the "
                            "embeddings are the same")
    cache.add_argument("--no-feature-cache", dest="feature_cache", action="store_false",
                       help="always run the trunk")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=command("gtalign.cli.commands.train:run_embed"))
