"""`gtalign evaluate` and `gtalign report`: the parsers (`gtalign.cli.commands.evaluate` runs them)."""
from __future__ import annotations

import argparse

from gtalign.cli.lazy import LazyChoices, command


def register(subparsers: argparse._SubParsersAction) -> None:
    ev = subparsers.add_parser("evaluate", help="run evaluation protocols on a checkpoint's or a folder's embeddings",
                               description="Evaluate frame embeddings; writes one results JSON per protocol.")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--embeddings", help="embedding folder written by `gtalign embed` (train and val videos)")
    source.add_argument("--checkpoint", help="checkpoint to embed --dataset with (embeddings are reused if present)")
    ev.add_argument("--dataset", help="dataset (manifest or source path) to embed; needed with --checkpoint")
    ev.add_argument("--embed-dir", help="where --checkpoint's embeddings go (default <ckpt dir>/embeddings/<dataset>)")
    ev.add_argument("--protocol", nargs="+", required=True, metavar="PROTOCOL",
                    choices=LazyChoices("gtalign.evaluate.registry:available"),
                    help="protocols to run: %(choices)s")
    ev.add_argument("--split", default="val", help="split evaluated; training videos are split 'train' (default val)")
    ev.add_argument("--name", help="method name for report rows (default: the checkpoint's run folder)")
    ev.add_argument("--out", default="results", help="folder for the results files (default results/)")
    ev.add_argument("--per-event", dest="per_event", action="store_true", default=None,
                    help="svm: one SVM per class (FineGym event)")
    ev.add_argument("--fractions", nargs="+", type=float, help="svm: fractions of labelled training videos")
    ev.add_argument("--shots", nargs="+", type=int, help="fewshot: labelled videos per class (default 1..10)")
    ev.add_argument("--episodes", type=int, help="fewshot: random episodes per shot count (default 50)")
    ev.add_argument("--stride", type=int, help="kendall/retrieval: use every s-th frame (default 5 / 1)")
    ev.add_argument("--distance", choices=LazyChoices("gtalign.evaluate.neighbours:METRICS"), metavar="DISTANCE",
                    help="kendall/retrieval/alignment distance: %(choices)s (default sqeuclidean)")
    ev.add_argument("--ks", nargs="+", type=int, help="retrieval: K values (default 5 10 15)")
    ev.add_argument("--seed", type=int, help="svm/fewshot: seed of the video draws (default 0)")
    ev.set_defaults(func=command("gtalign.cli.commands.evaluate:run_evaluate"))

    rep = subparsers.add_parser("report", help="tables and plots from results files",
                                description="Render results JSON files as markdown tables and PNG plots.")
    rep.add_argument("results", nargs="+", help="results files or folders of them")
    rep.add_argument("--out", default="report", help="folder for report.md and the plots (default report/)")
    rep.set_defaults(func=command("gtalign.cli.commands.evaluate:run_report"))
