"""Compile gtalign's numba kernels once, into numba's on-disk cache, so that no later process pays for it.

numba compiles a kernel the first time a process calls it and, with ``cache=True`` (every kernel here), keeps the
machine code beside the source (``__pycache__``) for the next process on the same CPU. Without this step every
new process that first calls a kernel compiles it: the first `gtalign align` (the slope-limited path), the first
loss that uses Drop-DTW (about 20 s on a 2-core machine), and each parallel test process again. `make venv` runs

    python -m gtalign.ops.precompile

after installing, two kernels at a time in two processes. Each kernel is called through the public op, in every
type the library passes it (float32 and float64 costs for the smoothDTW sweep), at the sizes that pick each code
path (chunk by chunk, and numba's parallel loop), forward and backward, so the cached signatures are the ones real
calls look up. Prints the seconds each took.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

from gtalign.data.tfrecord import crc32c
from gtalign.errors import GtalignError
from gtalign.ops import smooth_dtw
from gtalign.ops.constrained import constrained_dtw, constrained_posterior
from gtalign.ops.drop_dtw import drop_dtw, drop_dtw_path
from gtalign.ops.dtw_numba import PARALLEL_CELLS


def _smooth_dtw(dtype: torch.dtype) -> Callable[[], None]:
    def run() -> None:
        # small pairs run chunk by chunk in the calling thread; pairs of PARALLEL_CELLS cells or more, in numba's
        # parallel loop over the chunks (a kernel of its own)
        for n, m in ((9, 7), (int(PARALLEL_CELLS ** 0.5) + 1, int(PARALLEL_CELLS ** 0.5) + 1)):
            cost = torch.rand(16, n, m, dtype=dtype, requires_grad=True)
            lengths = (torch.full((16,), n), torch.tensor([m] * 8 + [m - 2] * 8))
            smooth_dtw(cost, 0.1, lengths=lengths, backend="numba").sum().backward()
    return run


def _drop_dtw() -> None:
    for dtype in (torch.float32, torch.float64):
        cost = torch.rand(10, 6, 5, dtype=dtype, requires_grad=True)
        drop_dtw(cost, 0.5, 0.5, gamma=0.1, backend="numba").sum().backward()
    drop_dtw_path(np.random.default_rng(0).random((6, 5)), drop_x=0.5, drop_y=0.5)


def _constrained() -> None:
    cost = np.random.default_rng(0).random((8, 6))
    constrained_dtw(cost, (3, 2), 0.5, gamma=0.0)
    constrained_dtw(cost, (3, 2), 0.5, gamma=0.05)
    constrained_posterior(cost, (3, 2), 0.5, gamma=0.5)


def _tfrecord() -> None:
    crc32c(b"gtalign")


#: (what, how to call it once), the longest to compile first (`precompile` hands them out in this order).
KERNELS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("Drop-DTW", _drop_dtw),
    ("smoothDTW sweep, float32", _smooth_dtw(torch.float32)),
    ("smoothDTW sweep, float64", _smooth_dtw(torch.float64)),
    ("slope-limited path", _constrained),
    ("TFRecord checksum", _tfrecord),
)


def _run_one(name: str) -> tuple[str, float]:
    run = dict(KERNELS)[name]
    tic = time.perf_counter()
    run()
    return name, time.perf_counter() - tic


def precompile(processes: int | None = None, names: Sequence[str] | None = None) -> list[tuple[str, float]]:
    """Call every kernel of `KERNELS` once (or those `names`), on up to `processes` processes at once (default: the
    CPU count, at most 2; numba compiles under the GIL, so threads would not help): [(what, seconds)]."""
    known = [name for name, _ in KERNELS]
    chosen = known if names is None else list(names)
    if unknown := [n for n in chosen if n not in known]:
        raise GtalignError(f"no kernel named {unknown}; the kernels are {known}")
    processes = processes or min(2, os.cpu_count() or 1)
    if processes <= 1 or len(chosen) <= 1:
        return [_run_one(name) for name in chosen]
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_run_one, chosen))


def main() -> int:
    tic = time.perf_counter()
    for name, seconds in precompile():
        print(f"numba kernels: {name}: {seconds:.1f} s", flush=True)
    print(f"numba kernels: compiled or loaded from the cache in {time.perf_counter() - tic:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
