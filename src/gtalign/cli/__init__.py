"""The `gtalign` command line: one module per layer builds that layer's parsers (`register(subparsers)`), and
`gtalign.cli.commands.<layer>` runs its commands; this package's `__init__` only lists the parser modules and runs
the chosen command.

Sub-commands only parse arguments and call the library. Every start builds every command's parser, so the parser
modules import nothing heavy (torch, scipy, numpy): a command's function is named by reference
(`gtalign.cli.lazy.command`) and its module, which imports the library at module level, is loaded when the command
runs; choices that need a slow import are checked lazily (`gtalign.cli.lazy.LazyChoices`); tests/test_cli.py
checks.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys

from gtalign import __version__
from gtalign.errors import GtalignError

COMMAND_MODULES = (
    "gtalign.cli.data",
    "gtalign.cli.train",
    "gtalign.cli.evaluate",
    "gtalign.cli.apps",
    "gtalign.cli.demo",
)


def _exists(module: str) -> bool:
    """Whether `module` is there (its parent packages are imported, which is cheap: see above)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gtalign", description="Global temporal alignment of videos.")
    parser.add_argument("--version", action="version", version=f"gtalign {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if not _exists(name):  # layer not built yet
            continue
        importlib.import_module(name).register(subparsers)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record comes (tests and callers may swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("gtalign: warning: %(message)s"))
        self.setLevel(logging.WARNING)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def show_library_warnings() -> None:
    """The library's logged warnings (skipped or truncated videos, ...) as `gtalign: warning: ...` lines on stderr.
    Installed once; idempotent."""
    logger = logging.getLogger("gtalign")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())


def main(argv: list[str] | None = None) -> int:
    show_library_warnings()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # config overrides may come after an option (`train --config c.yaml --quiet data.root=DIR`): argparse
        # collects a positional list only once
        if isinstance(getattr(args, "overrides", None), list) and all("=" in e and not e.startswith("-")
                                                                      for e in extra):
            args.overrides += extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except GtalignError as e:
        print(f"gtalign {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gtalign {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
