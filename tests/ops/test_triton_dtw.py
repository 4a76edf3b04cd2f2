"""The Triton smoothDTW backend without a GPU: its host-side helpers here, its kernels under Triton's interpreter.

Triton decorates its own library functions when it is imported, so the interpreter works only in a process that
had TRITON_INTERPRET=1 before importing triton; the kernel cases (test_triton_interpreted.py) therefore run in a
child process, and this file fails with that process's report if any of them fails.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gtalign.errors import GtalignError

pytest.importorskip("triton", reason="triton is not installed, so the Triton DTW backend cannot be used")

from gtalign.ops import dtw_triton  # noqa: E402  (after the skip)

INTERPRETED_CASES = Path(__file__).with_name("test_triton_interpreted.py")
IN_INTERPRETER = os.environ.get("TRITON_INTERPRET") == "1"


@pytest.mark.skipif(IN_INTERPRETER, reason="this process already runs the interpreter: pytest collects the cases")
def test_kernels_under_the_interpreter_match_the_cpu_backends():
    env = {**os.environ, "TRITON_INTERPRET": "1", "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(INTERPRETED_CASES)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-4000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-2000:]


def test_launch_config_covers_a_diagonal_up_to_the_largest_block():
    assert dtw_triton.launch_config(7, 5) == (32, 1)
    assert dtw_triton.launch_config(256, 300) == (256, 4)
    assert dtw_triton.launch_config(4096, 4096) == (dtw_triton.MAX_BLOCK, 16)


@pytest.mark.parametrize("n, m", [(4, 6), (5, 5), (1, 3), (7, 1)])
def test_diagonal_offsets_count_the_cells_before_each_diagonal(n, m):
    offsets = dtw_triton.diagonal_offsets(n, m, "cpu")
    brute = [sum(1 for i in range(1, n + 1) for j in range(1, m + 1) if i + j < k) for k in range(n + m + 3)]
    assert offsets.tolist() == brute
    assert int(offsets[-1]) == n * m


@pytest.mark.skipif(IN_INTERPRETER, reason="the interpreter runs the kernels on CPU tensors")
def test_cpu_tensor_needs_cuda_without_interpreter():
    cost = torch.rand(2, 4, 3)
    lengths = torch.tensor([4, 2]), torch.tensor([3, 3])
    with pytest.raises(GtalignError, match="needs a CUDA tensor, got cost on cpu"):
        dtw_triton.forward(cost, *lengths, 0.1, "smoothmin", False)
