"""`gtalign demo`: run the demo on parsed arguments and print the table."""
from __future__ import annotations

import argparse

from gtalign.apps.demo.pipeline import demo
from gtalign.apps.demo.settings import load_settings


def run_demo(args: argparse.Namespace) -> int:
    settings = load_settings("quick" if args.quick else args.preset, args.config)
    run, report = demo(settings, args.out, seeds=args.seeds, ablations=args.ablations, workers=args.workers,
                       threads=args.threads, progress=not args.quiet, jobs=args.jobs)
    print()
    print((run.out_dir / "table.md").read_text(encoding="utf-8"))
    print(f"report: {report.resolve()}")
    return 0
