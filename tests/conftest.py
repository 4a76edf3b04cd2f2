"""Fixtures and settings every test shares; each folder's conftest adds what only its tests need."""
from __future__ import annotations

import numpy as np
import pytest
import torch

# Tests run in parallel processes (pytest-xdist), one per core: more torch threads per process only contend.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _few_threads():
    """One torch thread for every test, also after a test that changed it."""
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_torch_seed():
    """torch's global generator seeded before every test, so no test depends on what ran before it in its process
    (`make test` sends whole modules to processes, in an order that varies: a loss head initialised from a leftover
    state once left SpeedNet's property test at 3 of 5 instead of 4 or 5)."""
    torch.manual_seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed."""
    return np.random.default_rng(0)
