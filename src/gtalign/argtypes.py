"""Argument types for the command line, checked when the arguments are parsed (before any work).

Each is an ``argparse`` ``type=`` callable: a bad value becomes ``gtalign CMD: error: argument --x: ...`` and exit
status 2. Nothing heavy is imported here (building the parser must stay cheap).
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Callable


def int_at_least(least: int, unit: str = "") -> Callable[[str], int]:
    """An integer >= `least`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be >= {least}{unit}, got {value}")
        return value

    parse.__name__ = f"integer >= {least}"
    return parse


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def output_folder(text: str) -> str:
    """A folder that exists or can be made, and can be written to: not an existing file, not under a file, not in
    a read-only place."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file; expected a folder for the outputs")
    parent = path
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text} cannot be made: {parent} is a file")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be written: {parent} is not writable")
    return text
