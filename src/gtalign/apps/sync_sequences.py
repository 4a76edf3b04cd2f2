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

from gtalign.apps.sequences import read_sequences, sequence_alignment
from gtalign.apps.sync import pair_clock
from gtalign.apps.sync_run import SYNC_PATH, named_index, write_sync
from gtalign.errors import GtalignError

#: What `sync.json`'s "features" and each pair's "streams" say was compared.
DESCRIPTION = "per-frame arrays, each value scaled by its spread"


def sync_sequence_files(paths: Sequence[str | Path], fps: float, out_dir: str | Path,
                        reference: str | None = None) -> dict[str, Any]:
    """Clocks of the sequences in `paths` (all at `fps` frames per second) against the `reference` one (a file
    name, its stem or the path as given; the first when None); writes the files (module docstring) into `out_dir`
    and returns the ``sync.json`` object."""
    files = [Path(p) for p in paths]
    if len(files) < 2:
        raise GtalignError(f"sync needs two or more sequences, got {len(files)}")
    ref = named_index(reference, [(str(p), p.name, p.stem) for p in files], "sequences")
    arrays = read_sequences(files)
    pairs = []
    for a, b in combinations(range(len(arrays)), 2):
        alignment = sequence_alignment(arrays[a], arrays[b], fps, fps, SYNC_PATH)
        pairs.append(dataclasses.replace(pair_clock(alignment, fps, fps, a, b), streams=["values"]))
    _, doc = write_sync(pairs, [p.name for p in files], [fps] * len(files), [len(x) / fps for x in arrays], ref,
                        DESCRIPTION, Path(out_dir))
    return doc
