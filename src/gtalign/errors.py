"""Errors raised for bad input, and the small checks that produce them.

Every message names the argument and says what was expected and what was received.
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


def check_finite(name: str, value: Any) -> None:
    """Raise GtalignError if a tensor or array holds NaN or Inf.

    Works for torch tensors and numpy arrays without importing either eagerly. The fast path is one sum, with no
    temporary array: a finite sum proves every entry finite (a NaN or an infinity never sums to a finite value);
    only a non-finite sum (a bad entry, or finite entries overflowing) falls back to the exact elementwise test.
    """
    try:
        import torch

        if isinstance(value, torch.Tensor):
            if value.is_floating_point() and not bool(torch.isfinite(value.detach().sum())) \
                    and not bool(torch.isfinite(value).all()):
                bad = int((~torch.isfinite(value)).sum())
                raise GtalignError(f"{name} contains {bad} NaN/Inf value(s) ({describe(value)}); "
                                   "expected finite values")
            return
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    import numpy as np

    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.floating):
        return
    with np.errstate(all="ignore"):  # inf - inf in the sum
        total = arr.sum()
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise GtalignError(f"{name} contains {bad} NaN/Inf value(s) ({describe(arr)}); expected finite values")
