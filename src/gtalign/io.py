"""Atomic file writes: write to a temporary name in the same folder, then rename.

A reader never sees a half-written file, and an interrupted write leaves the previous file intact.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from gtalign.errors import GtalignError


def _default_mode() -> int:
    """The permission bits a newly created file gets under the current umask (0666 & ~umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed onto `path`.

    `suffix` defaults to the target's suffix so that writers choosing a format by extension
    (numpy, PIL, video encoders) behave the same.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix,
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, _default_mode())  # mkstemp makes 0600 files; use what open() would have made
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 1) -> None:
    """Write `obj` as JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Read JSON, with an error naming the file when it is missing or malformed."""
    p = Path(path)
    if not p.is_file():
        raise GtalignError(f"{what} not found: {p}")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise GtalignError(f"{what} {p} is not valid JSON: {e}") from e


def atomic_save(path: str | os.PathLike, save: Callable[[Path], None]) -> None:
    """Call `save(tmp_path)` and rename the result onto `path` (for torch.save, np.save, ...)."""
    with atomic_path(path) as tmp:
        save(tmp)


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """`np.save(path, array)` atomically, without pickles."""
    atomic_save(path, lambda tmp: np.save(tmp, array, allow_pickle=False))


def load_torch_file(path: str | os.PathLike, what: str, expected: str = "") -> Any:
    """`torch.load` on the CPU without running pickled code (`weights_only=True`).

    A missing or unreadable file is a GtalignError naming `what` it should have been, the path and `expected`.
    """
    p = Path(path)
    hint = f"; expected {expected}" if expected else ""
    if not p.is_file():
        raise GtalignError(f"{what} not found: {p}{hint}")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for corrupt or foreign files
        raise GtalignError(f"{what} {p} could not be read{hint}: {e}") from e


def pool_context() -> multiprocessing.context.BaseContext:
    """The start method for worker processes: forkserver where available (safe with threads), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
