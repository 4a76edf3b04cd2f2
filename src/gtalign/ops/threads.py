"""Running the independent chunks of a GIL-free numba kernel on several threads.

Two ways, with the same results (chunks do not interact):

- **OpenMP** (preferred): a ``parallel=True`` numba function looping ``prange`` over the chunks. When numba's
  threading layer is OpenMP it runs on the same GNU OpenMP runtime as torch (one ``libgomp.so.1`` per process),
  i.e. on torch's own worker threads. Any other thread pool competes for the cores with torch's workers, which
  keep spinning for a few milliseconds after every parallel torch op (the cost matrix, the finiteness check):
  that contention cost 2-5 ms per DTW call at B = 16, N = M = 256-512 on 2 cores.
- **Python threads** otherwise: the calling thread and a small pool take the next chunk until none is left
  (the kernels release the GIL). Used when numba's layer is not OpenMP (TBB or workqueue; workqueue must not be
  launched from two threads at once), and in a child forked from a process that already used the OpenMP layer
  (GNU OpenMP cannot run there; numba would terminate the child).
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable

import numba
import torch

_LAYER: str | None = None  # numba's threading layer, once known
_OPENMP_PID: int | None = None  # the process that launched numba's OpenMP layer first
_POOL: tuple[int, ThreadPoolExecutor] | None = None  # (threads, pool) for the Python-thread path


def _forget_pool_in_child() -> None:
    global _POOL
    _POOL = None  # its threads do not exist in a forked child: work submitted there would wait forever


os.register_at_fork(after_in_child=_forget_pool_in_child)


def threads() -> int:
    """How many threads a parallel call may use: ``torch.get_num_threads()``."""
    return max(1, torch.get_num_threads())


def numba_layer() -> str:
    """numba's threading layer (``"omp"``, ``"tbb"``, ``"workqueue"``), chosen now if no parallel numba code has
    run yet (as numba would at its first parallel launch), or ``"unknown"``."""
    global _LAYER
    if _LAYER is None:
        try:
            from numba.np.ufunc import parallel

            parallel._launch_threads()
            _LAYER = numba.threading_layer()
        except Exception:  # pragma: no cover - a numba without this internal: Python threads
            _LAYER = "unknown"
    return _LAYER


def use_openmp() -> bool:
    """Whether this process runs chunks through numba's OpenMP layer (see the module docstring)."""
    global _OPENMP_PID
    if numba_layer() != "omp":
        return False
    if _OPENMP_PID is None:
        _OPENMP_PID = os.getpid()
    return _OPENMP_PID == os.getpid()


def run_chunks(kernel: Callable, parallel: Callable | None, chunks: int, *args) -> None:
    """``kernel(chunk, *args)`` for ``chunk in range(chunks)``, on up to :func:`threads` threads.

    ``parallel(chunks, *args)`` must do the same with a ``numba.prange`` loop (a ``parallel=True, nogil=True``
    function); ``kernel`` must release the GIL. One chunk, or one thread, runs in the calling thread. ``parallel``
    None: Python threads always (for a kernel so large that compiling it a second time into a ``prange`` loop costs
    more than the OpenMP layer saves).
    """
    workers = min(chunks, threads())
    if workers > 1 and parallel is not None and use_openmp():
        workers = min(workers, numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined] # set at run time
        previous = numba.get_num_threads()
        numba.set_num_threads(workers)  # this thread's team: no more threads than torch's
        try:
            parallel(chunks, *args)
        finally:
            numba.set_num_threads(previous)
        return
    if workers <= 1:
        for chunk in range(chunks):
            kernel(chunk, *args)
        return
    _run_on_python_threads(kernel, chunks, workers, args)


def _run_on_python_threads(kernel: Callable, chunks: int, workers: int, args: tuple) -> None:
    """The calling thread and ``workers - 1`` pool threads take the next chunk until none is left."""
    global _POOL
    if _POOL is None or _POOL[0] < workers - 1:
        _POOL = (workers - 1, ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="gtalign-dtw"))
    counter = itertools.count()  # next() is atomic under the GIL: each chunk is taken once

    def drain() -> None:
        while (chunk := next(counter)) < chunks:
            kernel(chunk, *args)

    futures = [_POOL[1].submit(drain) for _ in range(workers - 1)]
    try:
        drain()
    finally:
        wait(futures)  # all of them, even if one failed: the caller's workspaces go back to the pool afterwards
    for future in futures:
        future.result()
