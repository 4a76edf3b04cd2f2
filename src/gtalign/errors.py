"""The error raised for bad input, and how messages describe values (light: the command line imports it).

Every message names the argument and says what was expected and what was received; the finiteness check that
raises it for arrays and tensors is in `gtalign.checks`.
"""
from __future__ import annotations

from typing import Any


class GtalignError(ValueError):
    """Bad input to gtalign: the message names the input and what was expected."""


def describe(value: Any) -> str:
    """A short description of a value for error messages (shape and dtype for arrays)."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {getattr(value, 'dtype', '?')}"
    return repr(value)
