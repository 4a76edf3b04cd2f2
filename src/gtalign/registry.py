"""One way to name things: a checked choice among a few strings, and a registry of named implementations.

`check_choice("relaxation", value, RELAXATIONS)` returns `value` or raises a GtalignError naming the argument, the
choices and, for a near miss, the one that was probably meant. Choice lists are written once as a `Literal` type
(`Relaxation = Literal["smoothmin", "min_gamma", "hard"]`, `RELAXATIONS = choices(Relaxation)`), so type checkers
and the runtime check agree. `Registry` is a dict of named implementations (losses, data sources, evaluation
protocols, trunks, DTW backends) whose missing keys raise that same error.
"""
from __future__ import annotations

import difflib
import typing
from typing import Any, Iterable, TypeVar

from gtalign.errors import GtalignError

T = TypeVar("T")


def choices(literal: Any) -> tuple[str, ...]:
    """The strings of a `Literal[...]` type, in order."""
    return tuple(typing.get_args(literal))


def unknown_choice(what: str, value: object, names: Iterable[str]) -> GtalignError:
    """The error for `value` not being one of `names`: "<what> must be one of [...], got 'x' (did you mean 'y'?)"."""
    names = list(names)
    close = difflib.get_close_matches(value, names, 1) if isinstance(value, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return GtalignError(f"{what} must be one of {names}, got {value!r}{hint}")


def check_choice(what: str, value: object, names: Iterable[str]) -> Any:
    """`value` if it is one of `names`, else the GtalignError of `unknown_choice`."""
    names = list(names)
    if not isinstance(value, str) or value not in names:
        raise unknown_choice(what, value, names)
    return value


class Registry(dict):
    """Named implementations of one kind (``Registry("loss")``): a dict whose missing keys raise `unknown_choice`,
    filled with `register(name)` (a decorator, or `register(name, item)`)."""

    def __init__(self, kind: str, items: dict[str, Any] | None = None):
        super().__init__(items or {})
        self.kind = kind

    def __missing__(self, name: str) -> Any:
        raise unknown_choice(self.kind, name, self.names())

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self)

    def register(self, name: str, item: Any = None) -> Any:
        """Add `item` as `name` (an error if another item has that name); without `item`, a decorator."""
        def add(obj: T) -> T:
            if name in self and self[name] is not obj:
                raise GtalignError(f"{self.kind} name {name!r} is already registered by {self[name]!r}")
            self[name] = obj
            return obj

        return add if item is None else add(item)


