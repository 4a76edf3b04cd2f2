"""`gtalign demo`: the parser (`gtalign.cli.commands.demo` runs it)."""
from __future__ import annotations

import argparse
import os

from gtalign.argtypes import int_at_least, output_folder
from gtalign.cli.lazy import command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="train GTA and the baselines on synthetic videos, compare them, put two videos in sync",
        description="Generate the synthetic action dataset, train GTA and every baseline with the same network, "
                    "data and budget (frozen, cached MobileNetV2 trunk on CPU), evaluate them on every protocol, "
                    "print the comparison table and write report.html. Finished runs are kept in the output "
                    "folder: an interrupted demo continues where it stopped.")
    p.add_argument("-o", "--out", default="demo_out", type=output_folder, help="output folder (default demo_out/)")
    p.add_argument("--preset", choices=("full", "easy", "quick"), default="full",
                   help="full (default): the hard synthetic data; easy: the original, easy data with the same budget; "
                        "quick: a tiny run on easy data")
    p.add_argument("--quick", action="store_true", help="the same as --preset quick (CI; under 3 minutes)")
    p.add_argument("--seeds", type=int, default=1, help="train every method with seeds 0..N-1 (default 1)")
    p.add_argument("--ablations", action="store_true",
                   help="also train GTA with min^gamma and hard min, without cycle-consistency, gamma_s 0.01 and 1")
    p.add_argument("--config", default=None, help="YAML file overriding fields of the preset (see configs/demo/)")
    p.add_argument("--workers", type=int, default=2, help="processes generating the dataset (default 2)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: the embedder's small convolutions gain nothing from more, "
                        "and lose a lot when the cores are shared)")
    p.add_argument("--jobs", type=int_at_least(1), default=min(2, os.cpu_count() or 1),
                   help="training runs at once, each in its own process (default: 2, or 1 on a 1-core machine); "
                        "the numbers do not depend on it")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=command("gtalign.cli.commands.demo:run_demo"))
