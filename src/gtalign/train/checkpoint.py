"""Checkpoints: `{run_dir}/ckpt_{step}.pt` and a copy `last.pt`, written atomically.

A checkpoint holds everything needed to continue exactly where training stopped: the config, model and loss-head
weights, optimizer, schedule, gradient scaler, the random number generators of every process and the data sampler's
position. RNG states are stored as tensors and lists so that checkpoints load with `weights_only=True` (loading
never runs pickled code).
"""
from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from gtalign.errors import GtalignError
from gtalign.io import atomic_path, atomic_save, load_torch_file

FORMAT = "gtalign-checkpoint"
VERSION = 1
LAST = "last.pt"
_STEP_FILE = re.compile(r"ckpt_(\d+)\.pt$")


def rng_state() -> dict[str, Any]:
    """The python, numpy, torch (and CUDA) generator states of this process."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = cast("tuple[str, np.ndarray, int, int, float]",
                                              np.random.get_state(legacy=True))
    state = {"python": [version, list(internal), gauss],
             "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` returned."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def checkpoint_path(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / f"ckpt_{step}.pt"


def save_checkpoint(run_dir: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write `state` to `ckpt_{step}.pt` and `last.pt` atomically; keep the newest `keep` step files.

    Returns the path of `ckpt_{step}.pt`.
    """
    run_dir = Path(run_dir)
    path = checkpoint_path(run_dir, step)
    payload = {"format": FORMAT, "version": VERSION, "step": step} | state
    atomic_save(path, lambda tmp: torch.save(payload, tmp))
    with atomic_path(run_dir / LAST) as tmp:
        shutil.copyfile(path, tmp)
    for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else list_checkpoints(run_dir)[:-1]:
        old.unlink(missing_ok=True)
    return path


def _step_of(path: Path) -> int:
    """The step of a `ckpt_{step}.pt` file (-1 for any other name)."""
    found = _STEP_FILE.search(path.name)
    return int(found.group(1)) if found else -1


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """The `ckpt_{step}.pt` files of a run, oldest step first."""
    files = [p for p in Path(run_dir).glob("ckpt_*.pt") if _STEP_FILE.search(p.name)]
    return sorted(files, key=_step_of)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint file (or a run folder's `last.pt`), checking that it is one of ours."""
    path = Path(path)
    if path.is_dir():
        path = path / LAST
    state = load_torch_file(path, "checkpoint", "a gtalign checkpoint (.pt)")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise GtalignError(f"{path} is not a gtalign checkpoint (expected format {FORMAT!r})")
    if int(state.get("version", 0)) > VERSION:
        raise GtalignError(f"checkpoint {path} has version {state['version']}; this gtalign reads up to {VERSION}")
    return state


def load_resume_state(run_dir: str | Path) -> tuple[dict[str, Any], Path, list[str]]:
    """The newest readable checkpoint of a run: `last.pt`, else the `ckpt_{step}.pt` files newest first.

    Returns (state, the file it came from, notes on the files that could not be read). GtalignError naming every
    file tried when none can be read.
    """
    run_dir = Path(run_dir)
    notes: list[str] = []
    for path in [run_dir / LAST] + list_checkpoints(run_dir)[::-1]:
        if not path.is_file():
            notes.append(f"{path} is missing")
            continue
        try:
            return load_checkpoint(path), path, notes
        except GtalignError as e:
            notes.append(str(e).splitlines()[0])
    raise GtalignError(f"--resume: no readable checkpoint in {run_dir} ({'; '.join(notes)})")


#: Config keys that may change between a run and its resumption without a warning.
RESUMABLE_CHANGES = ("train.max_steps", "train.log_every", "train.val_every", "train.checkpoint_every",
                     "train.keep_checkpoints", "train.device", "data.workers")


def config_changes(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """`section.key: old -> new` for every setting that differs between two config dicts (`Config.to_dict`),
    except those in `RESUMABLE_CHANGES`."""
    out = []
    for section in sorted(set(saved) | set(current)):
        a, b = saved.get(section) or {}, current.get(section) or {}
        for key in sorted(set(a) | set(b)):
            name = f"{section}.{key}"
            if name not in RESUMABLE_CHANGES and a.get(key) != b.get(key):
                out.append(f"{name}: {a.get(key)!r} -> {b.get(key)!r}")
    return out
