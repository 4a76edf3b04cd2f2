"""The loss registry: a config names a loss by string, ``create(name, **kwargs)`` builds it.

Loss modules register themselves with the :func:`register` decorator when ``gtalign.losses`` is imported.
"""
from __future__ import annotations

import inspect
from typing import Callable, TypeVar

from torch import nn

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss
from gtalign.registry import Registry

_LOSSES: Registry = Registry("loss")

L = TypeVar("L", bound=type[FrameLoss])


def register(name: str) -> Callable[[L], L]:
    """Class decorator: make the loss class available as ``create(name)`` and set its ``name`` attribute."""

    def add(cls: L) -> L:
        _LOSSES.register(name, cls)
        cls.name = name
        return cls

    return add


def available() -> list[str]:
    """The registered loss names, sorted."""
    return _LOSSES.names()


def loss_class(name: str) -> type[FrameLoss]:
    """The class registered as ``name`` (to inspect its arguments, ``needs`` and ``uses`` before building it)."""
    return _LOSSES[name]  # an unknown name: "loss must be one of [...], got ... (did you mean ...?)"


def create(name: str, **kwargs) -> nn.Module:
    """Build the loss registered as ``name`` with keyword arguments ``kwargs`` (e.g. from a YAML config).

    Raises GtalignError for an unknown name or an argument the loss does not take, listing what it accepts.
    """
    cls = loss_class(name)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise GtalignError(f"loss {name!r} got unknown argument(s) {unknown}; it accepts {accepted}")
    return cls(**kwargs)
