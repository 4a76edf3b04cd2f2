"""A bounded pool of reusable scratch arrays, so that large per-call buffers are not faulted in afresh each call.

The numba DTW forward writes ``3 B N M`` softmin derivatives per call (50 MB at B = 16, N = M = 512 in float32)
and keeps them for its backward. A fresh ``np.empty`` of that size is a new memory mapping, and the kernel pays a
page fault for every 4 KiB it writes (about a third of the forward's time at that size); reusing the memory of an
earlier call avoids that.

Aliasing rule: an array is lent either to an *owner* object (:meth:`BufferPool.lend`; the autograd state of one
DTW call) and comes back to the pool only when that owner is garbage-collected, or for the extent of a ``with``
block (:meth:`BufferPool.scratch`). Derivatives saved for a backward therefore cannot be overwritten by a later
forward, however many forwards run before the backward, and not if the backward runs twice
(``retain_graph=True``). The owner must be the only holder of the array it was lent, and a scratch array must not
be used after its block.

Thread safety: any thread may borrow. Arrays coming back through garbage collection, which may run inside any
allocation (even inside :meth:`BufferPool._take` with the lock held), are only appended to a queue (atomic, no
lock) and moved into the pool under the lock by the next borrower.
"""
from __future__ import annotations

import collections
import contextlib
import math
import os
import threading
import weakref
from typing import Iterator

import numpy as np

#: Pool arrays start on a cache line: the kernels' vector loads and stores then do not straddle two lines
#: (measured: the DTW backward at B = 16, N = M = 512 took 12.1 ms on 16-byte-aligned arrays, 10.0 ms on these).
ALIGNMENT = 64


def _aligned_empty(size: int, dtype: np.dtype) -> np.ndarray:
    """``np.empty(size, dtype)`` starting at a multiple of :data:`ALIGNMENT` bytes (for item sizes that divide it)."""
    raw = np.empty(size + ALIGNMENT // dtype.itemsize, dtype)
    skip = (-raw.__array_interface__["data"][0]) % ALIGNMENT // dtype.itemsize
    return raw[skip:skip + size]


class BufferPool:
    """Idle flat numpy arrays kept for reuse, at most ``max_bytes`` of them (the least recently returned dropped
    first).

    A request for an array of ``shape`` (``size`` elements) gets the first ``size`` elements of the smallest idle
    array of that dtype holding between ``size`` and ``slack * size`` elements, or a new array (aligned to
    :data:`ALIGNMENT` bytes). Requests under ``min_bytes`` bypass the pool (plain ``np.empty``: the allocator
    serves them without page faults). Contents are arbitrary, as with ``np.empty``.
    """

    def __init__(self, max_bytes: int, min_bytes: int = 1 << 18, slack: float = 2.0):
        self.max_bytes = int(max_bytes)
        self.min_bytes = int(min_bytes)
        self.slack = float(slack)
        self._idle: list[np.ndarray] = []  # oldest first
        self._returned: collections.deque[np.ndarray] = collections.deque()
        self._lock = threading.Lock()

    def lend(self, owner: object, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` that returns to the pool when ``owner`` (any object that takes weak
        references) is garbage-collected."""
        size = math.prod(shape)
        if not self._pooled(size, dtype):
            return np.empty(shape, dtype)
        base = self._take(size, dtype)
        weakref.finalize(owner, self._returned.append, base).atexit = False
        return base[:size].reshape(shape)

    @contextlib.contextmanager
    def scratch(self, shape: tuple[int, ...], dtype) -> Iterator[np.ndarray]:
        """An array of ``shape`` and ``dtype`` for the extent of a ``with`` block."""
        size = math.prod(shape)
        if not self._pooled(size, dtype):
            yield np.empty(shape, dtype)
            return
        base = self._take(size, dtype)
        try:
            yield base[:size].reshape(shape)
        finally:
            self._returned.append(base)

    def idle_bytes(self) -> int:
        """Bytes held by idle arrays (after taking in those returned so far)."""
        with self._lock:
            self._collect_returned()
            return sum(buf.nbytes for buf in self._idle)

    def clear(self) -> None:
        """Drop every idle array (lent ones are unaffected and still come back when their owners go)."""
        with self._lock:
            self._collect_returned()
            self._idle.clear()

    def _pooled(self, size: int, dtype) -> bool:
        return size > 0 and size * np.dtype(dtype).itemsize >= self.min_bytes

    def _take(self, size: int, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        with self._lock:
            self._collect_returned()
            best = None
            for k, buf in enumerate(self._idle):
                if buf.dtype == dtype and size <= buf.size <= self.slack * size and (
                        best is None or buf.size < self._idle[best].size):
                    best = k
            if best is not None:
                return self._idle.pop(best)
        return _aligned_empty(size, dtype)

    def _collect_returned(self) -> None:
        """Move returned arrays into the idle list (unless one alone exceeds ``max_bytes``) and drop the oldest
        beyond ``max_bytes`` (lock held)."""
        while self._returned:
            buf = self._returned.popleft()
            if buf.nbytes <= self.max_bytes:
                self._idle.append(buf)
        total = sum(buf.nbytes for buf in self._idle)
        while self._idle and total > self.max_bytes:
            total -= self._idle.pop(0).nbytes


def free_memory_bytes() -> int:
    """Physical memory the system has free now (bytes); 0 where it cannot tell."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return 0


def short_of_memory(need: int) -> int:
    """The free memory (bytes) when `need` bytes exceed it, else 0 (also where the free memory is unknown): what the
    DP loops that keep whole tables check before their sweep, to refuse a pair clearly instead of a MemoryError (or
    the out-of-memory killer) part-way through."""
    free = free_memory_bytes()
    return free if free and need > free else 0
