"""`gtalign sync` on per-frame arrays (pose keypoints, IMU, mocap markers) instead of videos.

Each pair of sequences is aligned as `gtalign align` aligns arrays (`apps.sequences.sequence_alignment`: every value
scaled by its spread, squared Euclidean costs over their median, the constrained path without the smooth-speed
prior, as for video clocks), its clock fitted (`apps.sync.pair_clock`) and the clocks combined
(`apps.sync.sync_from_pairs`). Written: ``sync.json``, ``sync.csv`` and ``residuals.png``, as for videos; there is
no viewer (nothing to play).
"""
from __future__ import annotations

import dataclasses
from itertools import combinations
from pathlib import Path
from typing import Any, Sequence

from gtalign.apps.sequences import read_sequence, sequence_alignment
from gtalign.apps.sync import pair_clock, sync_from_pairs, sync_json
from gtalign.apps.sync_run import SYNC_PATH, plot_residuals, sync_csv
from gtalign.errors import GtalignError
from gtalign.io import atomic_write_text, write_json

#: What `sync.json`'s "features" and each pair's "streams" say was compared.
DESCRIPTION = "per-frame arrays, each value scaled by its spread"


def sequence_reference(paths: Sequence[str | Path], reference: str | None) -> int:
    """The index of `reference` (a file name, its stem or the path as given) among `paths`; 0 when None."""
    if reference is None:
        return 0
    for k, p in enumerate(paths):
        if reference in (Path(p).name, Path(p).stem, str(p)):
            return k
    raise GtalignError(f"--reference {reference!r} is not one of the sequences ({', '.join(map(str, paths))})")


def sync_sequence_files(paths: Sequence[str | Path], fps: float, out_dir: str | Path,
                        reference: str | None = None) -> dict[str, Any]:
    """Clocks of the sequences in `paths` (all at `fps` frames per second) against the `reference` one (a file
    name; the first when None); writes the files (module docstring) into `out_dir` and returns the ``sync.json``
    object."""
    files = [Path(p) for p in paths]
    if len(files) < 2:
        raise GtalignError(f"sync needs two or more sequences, got {len(files)}")
    ref = sequence_reference(paths, reference)
    arrays = [read_sequence(p) for p in files]  # every file checked before any work
    for p, x in zip(files[1:], arrays[1:]):
        if x.shape[1] != arrays[0].shape[1]:
            raise GtalignError(f"{p} has {x.shape[1]} values a frame but {files[0]} has {arrays[0].shape[1]}")
    pairs = []
    for a, b in combinations(range(len(arrays)), 2):
        alignment = sequence_alignment(arrays[a], arrays[b], fps, fps, SYNC_PATH)
        pairs.append(dataclasses.replace(pair_clock(alignment, fps, fps, a, b), streams=["values"]))
    rates = [fps] * len(files)
    result = sync_from_pairs(pairs, len(files), ref, rates)
    names = [p.name for p in files]
    doc = sync_json(result, names, rates, [len(x) / fps for x in arrays])
    doc["features"] = DESCRIPTION
    out = Path(out_dir)
    write_json(out / "sync.json", doc)
    atomic_write_text(out / "sync.csv", sync_csv(doc))
    plot_residuals(pairs, names, out / "residuals.png")
    return doc
