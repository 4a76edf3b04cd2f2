"""What a parser names but loads only when it is used, so that building every command's parser stays light.

`command("module:function")` is a command's `func`: the module that runs it (`gtalign.cli.commands.*`) is imported
when the command runs. `LazyChoices("module:name")` is an option's `choices`, read from a module that is slow to
import (a registry of protocols, ...) when a value is checked or the choices are listed.
"""
from __future__ import annotations

import argparse
import importlib
from typing import Any, Callable, Iterator


def resolve(ref: str) -> Any:
    """The object `ref` names, as "package.module:name"."""
    module, _, name = ref.partition(":")
    if not module or not name:
        raise ValueError(f"expected a reference 'package.module:name', got {ref!r}")
    return getattr(importlib.import_module(module), name)


def command(ref: str) -> Callable[[argparse.Namespace], int]:
    """A parser's `func` that imports and calls the function `ref` ("module:function") when the command runs."""

    def run(args: argparse.Namespace) -> int:
        return resolve(ref)(args)

    run.__qualname__ = run.__name__ = f"command({ref!r})"
    return run


class LazyChoices:
    """`choices=` for an argparse option whose allowed values come from a module that is slow to import.

    `ref` ("module:name") names a sequence of the values or a function returning it; it is loaded when a value is
    checked or the choices are listed, not when the parser is built. Give the option a `metavar` (argparse lists
    choices in the usage line otherwise) and name them in its help with `%(choices)s`.
    """

    def __init__(self, ref: str):
        self._ref = ref
        self._values: tuple[str, ...] | None = None

    def _get(self) -> tuple[str, ...]:
        if self._values is None:
            found = resolve(self._ref)
            self._values = tuple(found() if callable(found) else found)
        return self._values

    def __contains__(self, value: object) -> bool:
        return value in self._get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

