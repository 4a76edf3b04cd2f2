"""`gtalign evaluate` and `gtalign report`: run `gtalign.evaluate` on parsed arguments."""
from __future__ import annotations

import argparse

from gtalign.errors import GtalignError
from gtalign.evaluate.report import render_report
from gtalign.evaluate.results import load_results
from gtalign.evaluate.runner import ensure_embeddings, evaluate_to_files

# Protocol options that the command line can set; unset ones keep each protocol's default.
OPTION_FLAGS = ("per_event", "fractions", "shots", "episodes", "stride", "distance", "ks", "seed")


def run_evaluate(args: argparse.Namespace) -> int:
    if args.checkpoint and not args.dataset:
        raise GtalignError("--checkpoint needs --dataset (the dataset to embed)")
    folder = args.embeddings or ensure_embeddings(args.checkpoint, args.dataset, args.embed_dir)
    opts = {k: getattr(args, k) for k in OPTION_FLAGS if getattr(args, k) is not None}
    for path in evaluate_to_files(folder, args.protocol, args.out, method=args.name, split=args.split, **opts):
        print(path)
    return 0


def run_report(args: argparse.Namespace) -> int:
    report = render_report(load_results(args.results), args.out)
    print(report.read_text(encoding="utf-8"))
    print(f"written: {report}")
    return 0
