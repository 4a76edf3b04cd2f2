"""Packages whose names are imported on first use (PEP 562), so that importing a package's light submodule (a
`commands` module for the `gtalign` command line) does not import torch, scipy and the rest through its
`__init__`.

In a package's `__init__.py`:

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"gtalign.evaluate.kendall": ["evaluate_kendall"]})
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping, Sequence


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]], before: Callable[[], None] | None = None
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """`(__getattr__, __dir__, __all__)` for `package`: each name of `exports` ({module: [names]}) is imported
    from its module when first looked up, then kept in the package. `before()` runs once before the first one
    (e.g. imports that register things, in their order)."""
    where = {name: module for module, names in exports.items() for name in names}
    pending = [before] if before is not None else []

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if pending:
            pending[0]()
            pending.clear()  # only once it worked: a failed import fails again on the next look-up
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, sorted(where)


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
