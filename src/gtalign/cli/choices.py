"""argparse choices whose allowed values come from a module that is slow to import (loaded when checked)."""
from __future__ import annotations

from typing import Callable, Sequence


class LazyChoices:
    """`choices=` for an argparse option whose allowed values come from a module that is slow to import: `load()`
    runs when a value is checked or the choices are listed, not when the parser is built. Give the option a
    `metavar` (argparse lists choices in the usage line otherwise) and name them in its help with `%(choices)s`."""

    def __init__(self, load: Callable[[], Sequence[str]]):
        self._load, self._values = load, None

    def _get(self) -> Sequence[str]:
        if self._values is None:
            self._values = tuple(self._load())
        return self._values

    def __contains__(self, value: object) -> bool:
        return value in self._get()

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())
