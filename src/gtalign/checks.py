"""The finiteness check where arrays and tensors enter: NaN/Inf caught with a message naming the input."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gtalign.errors import GtalignError, describe


def check_finite(name: str, value: Any) -> None:
    """Raise GtalignError if a tensor or array holds NaN or Inf.

    Works for torch tensors and numpy arrays. The fast path is one sum, with no temporary array: a finite sum
    proves every entry finite (a NaN or an infinity never sums to a finite value); only a non-finite sum (a bad
    entry, or finite entries overflowing) falls back to the exact elementwise test.
    """
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not bool(torch.isfinite(value.detach().sum())) \
                and not bool(torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            raise GtalignError(f"{name} contains {bad} NaN/Inf value(s) ({describe(value)}); expected finite values")
        return
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.floating):
        return
    with np.errstate(all="ignore"):  # inf - inf in the sum
        total = arr.sum()
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise GtalignError(f"{name} contains {bad} NaN/Inf value(s) ({describe(arr)}); expected finite values")
