"""`python -m gtalign.ops.precompile`: the kernels called once each, in worker processes, with their seconds."""
from __future__ import annotations

import pytest

from gtalign.errors import GtalignError
from gtalign.ops import precompile

CHEAP = ["slope-limited path", "TFRecord checksum"]


def test_each_chosen_kernel_runs_once_and_reports_its_seconds():
    """In this process (the worker processes are run by every `make venv`, which fails if they do)."""
    rows = precompile.precompile(processes=1, names=CHEAP)
    assert [name for name, _ in rows] == CHEAP
    assert all(seconds >= 0 for _, seconds in rows)


def test_an_unknown_kernel_is_named_with_the_known_ones():
    with pytest.raises(GtalignError, match="no kernel named \\['fft'\\].*Drop-DTW"):
        precompile.precompile(names=["fft"])
