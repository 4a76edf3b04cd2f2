"""The Triton smoothDTW backend without a GPU: its host-side helpers and an ahead-of-time compile of its kernels
for a Hopper GPU (sm_90, through ptxas) here, its kernels' arithmetic under Triton's interpreter.

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

triton = pytest.importorskip("triton", reason="triton is not installed, so the Triton DTW backend cannot be used")
from triton.backends.compiler import GPUTarget  # noqa: E402  (after the skip)
from triton.compiler import ASTSource  # noqa: E402

from gtalign.ops import dtw_triton  # noqa: E402

INTERPRETED_CASES = Path(__file__).with_name("test_triton_interpreted.py")
IN_INTERPRETER = os.environ.get("TRITON_INTERPRET") == "1"


@pytest.mark.slow
@pytest.mark.skipif(IN_INTERPRETER, reason="this process already runs the interpreter: pytest collects the cases")
def test_kernels_under_the_interpreter_match_the_cpu_backends():
    env = {**os.environ, "TRITON_INTERPRET": "1", "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(INTERPRETED_CASES)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-4000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-2000:]


def test_launch_config_covers_a_diagonal_up_to_the_largest_block():
    assert dtw_triton.launch_config(7, 5) == (32, 1)
    assert dtw_triton.launch_config(256, 300) == (256, 8)
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
        dtw_triton.forward(cost, *lengths, 0.1, "smoothmin", "score")


def compile_for_hopper(kernel, dtype: str, num_warps: int, **constexprs):
    """Compile ``kernel`` to PTX and a cubin for sm_90 (no GPU needed): pointers to ``dtype`` except the int64
    lengths and offsets, int32 sizes."""
    names = kernel.arg_names
    signature = {name: "constexpr" if name in constexprs else "i32" if name in ("N", "M")
                 else "*i64" if name.startswith(("len_", "offsets")) else f"*{dtype}" for name in names}
    return triton.compile(ASTSource(fn=kernel, signature=signature, constexprs=constexprs),
                          target=GPUTarget("cuda", 90, 32), options={"num_warps": num_warps, "num_stages": 1})


@pytest.mark.skipif(IN_INTERPRETER, reason="the interpreter replaces the kernels: nothing to compile")
@pytest.mark.parametrize("kernel, dtype, num_warps, constexprs", [
    ("_forward_kernel", "fp32", 4, {"RELAXATION": 0, "TABLE": False, "BLOCK": 256}),
    ("_forward_kernel", "fp64", 16, {"RELAXATION": 1, "TABLE": True, "BLOCK": 1024}),
    ("_backward_kernel", "fp32", 16, {"FROM_TABLE": True, "WITH_TOP": False, "BLOCK": 1024}),
    ("_backward_kernel", "fp64", 4, {"FROM_TABLE": False, "WITH_TOP": True, "BLOCK": 256}),
])
def test_kernels_compile_for_a_hopper_gpu_with_one_barrier_per_diagonal(kernel, dtype, num_warps, constexprs):
    try:
        compiled = compile_for_hopper(getattr(dtw_triton, kernel), dtype, num_warps, **constexprs)
    except (ImportError, FileNotFoundError, RuntimeError) as err:  # a triton build without the CUDA backend
        if "ptxas" in str(err) or "nvidia" in str(err).lower():
            pytest.skip(f"triton cannot compile for CUDA here: {err}")
        raise
    ptx = compiled.asm["ptx"]
    assert compiled.asm["cubin"]  # ptxas accepted it
    assert ptx.count("bar.sync") == 1  # the barrier between anti-diagonals, inside the sweep loop
    assert "ld.global.cg" in ptx  # ring-buffer loads go to L2, where the other threads' stores are
    assert compiled.metadata.shared == 0  # no shared memory: nothing limits programs per SM but registers
