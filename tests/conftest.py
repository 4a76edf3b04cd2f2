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


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed."""
    return np.random.default_rng(0)
