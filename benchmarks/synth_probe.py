"""How well can the demo's synthetic frames be aligned? The clock, the true pose and a probe of the frozen trunk.

Every row is scored by the demo's own alignment protocol (`gtalign.evaluate.alignment`: the hard DTW path on
squared Euclidean distances between the val videos of each class, its mean frame error against the true warp):

- **frame time**: each frame's relative time, what a clock knows (the demo's "frame time only" row);
- **true 3D pose**: the performer's joints from the generator (`VideoSpec.body_joints`), what a flawless
  viewpoint-free pose reader would see (the demo's "true 3D pose" row);
- **supervised probe of the frozen trunk**: per class, a logistic classifier of the canonical time (`BINS` bins)
  fitted on the *train* videos' cached trunk maps, with labels no method of the demo gets; the square roots of its
  class probabilities are the frame's features. Once on the whole maps (F x h x w, where the figure is) and once
  on the maps averaged over space (the demo's "trunk features" row). It says how much of the phase the frozen
  trunk's features hold for a learner that is told the answer on other videos: an estimate of the ceiling for
  the trained rows.

Usage: ``python benchmarks/synth_probe.py demo_out [--no-docs]`` after ``gtalign demo -o demo_out`` (it reads the
dataset and the trunk-feature cache there). ``docs/results.md`` gets the table (section synth-probe).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402

from gtalign.apps.demo.embed_cached import frame_time  # noqa: E402
from gtalign.data import VideoEntry, open_source  # noqa: E402
from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding  # noqa: E402
from gtalign.data.synth import VideoSpec  # noqa: E402
from gtalign.errors import GtalignError  # noqa: E402
from gtalign.evaluate.alignment import evaluate_alignment  # noqa: E402

BINS = 10  # canonical-time classes of the probe
PROBE_C = 0.05  # inverse L2 strength of the probe (standardised inputs; a few thousand frames a class)

Features = Callable[[VideoEntry], np.ndarray]


def canonical(entry: VideoEntry) -> np.ndarray:
    return np.asarray(entry.meta["canonical_time"], dtype=np.float64)


def time_bins(u: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The probe's labels: canonical time (T,) in [0, 1] cut into `bins` equal classes."""
    return np.minimum((np.asarray(u) * bins).astype(np.int64), bins - 1)


def alignment_error(entries: list[VideoEntry], features: Callable[[VideoEntry], np.ndarray]) -> float:
    """The demo's alignment DTW error (frames) of per-frame `features(entry)` (T, D) over the val videos."""
    videos = [VideoEmbedding(e.id, np.asarray(features(e), dtype=np.float32), e.class_name, "val", None, e.meta)
              for e in entries if e.split == "val"]
    return float(evaluate_alignment(EmbeddingSet(videos)).dtw["mae_frames"])


def probe_features(entries: list[VideoEntry], maps: Features, bins: int = BINS,
                   c: float = PROBE_C) -> dict[str, np.ndarray]:
    """Per val video id, the square roots of a logistic probe's time-bin probabilities (T, bins): one probe per
    class, fitted on that class's train videos' `maps(entry)` (T, D), standardised."""
    out: dict[str, np.ndarray] = {}
    for name in sorted({e.class_name for e in entries}):
        train = [e for e in entries if e.class_name == name and e.split == "train"]
        val = [e for e in entries if e.class_name == name and e.split == "val"]
        if not train or not val:
            continue
        x = np.concatenate([maps(e) for e in train])
        y = time_bins(np.concatenate([canonical(e) for e in train]), bins)
        mean, std = x.mean(0), x.std(0) + 1e-6
        clf = LogisticRegression(C=c, max_iter=300).fit((x - mean) / std, y)
        for e in val:
            proba = np.zeros((e.num_frames, bins))
            proba[:, clf.classes_] = clf.predict_proba((maps(e) - mean) / std)
            out[e.id] = np.sqrt(proba)
    return out


def cached_maps(demo_out: Path, entries: list[VideoEntry]) -> Callable[[VideoEntry], np.ndarray]:
    """`entry -> (T, F, h, w)` trunk maps from the demo's feature cache (one cached file per video expected)."""
    files: dict[str, Path] = {}
    for e in entries:
        found = [p for p in (demo_out / "feature_cache").rglob(f"{e.id}-*.npy")]
        if len(found) != 1:
            raise GtalignError(f"expected one cached trunk-feature file for {e.id!r} under {demo_out}/feature_cache, "
                               f"found {len(found)}; run `gtalign demo -o {demo_out}` first (one preset per folder)")
        files[e.id] = found[0]
    return lambda e: np.load(files[e.id])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demo_out", type=Path, help="a finished `gtalign demo` output folder")
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    manifests = sorted((args.demo_out / "data").glob("*/manifest.json"))
    if len(manifests) != 1:
        raise SystemExit(f"expected one dataset under {args.demo_out}/data, found {len(manifests)}")
    entries = list(open_source(manifests[0], progress=False).entries)
    maps = cached_maps(args.demo_out, entries)
    tic = time.perf_counter()
    rows = [("frame time (a clock)", alignment_error(entries, lambda e: frame_time(e.num_frames)), "no"),
            ("true 3D pose (the generator's joints)",
             alignment_error(entries, lambda e: VideoSpec.from_meta(e.meta).body_joints().reshape(e.num_frames, -1)),
             "no")]
    for label, view in (("whole maps", lambda e: maps(e).reshape(e.num_frames, -1)),
                        ("maps averaged over space", lambda e: maps(e).mean(axis=(2, 3)))):
        probed = probe_features(entries, view)
        rows.append((f"supervised probe of the frozen trunk, {label}",
                     alignment_error(entries, lambda e, p=probed: p[e.id]),
                     "train videos' true times"))
    table = markdown_table(["features", "align DTW error (frames)", "labels used"],
                           [(label, round(err, 2), used) for label, err, used in rows])
    text = "\n".join([
        "### What the synthetic frames allow: the clock, the true pose and a probe of the trunk "
        "(`benchmarks/synth_probe.py`)", "",
        machine_line(machine_info()), "", f"Dataset: `{manifests[0].parent.name}`, val pairs of every class.", "",
        table.rstrip(), "",
        f"The probe: per class, a logistic classifier of the canonical time in {BINS} bins (C = {PROBE_C}, "
        f"standardised inputs) on the train videos; {time.perf_counter() - tic:.0f} s in all."])
    publish(text, "synth-probe", not args.no_docs)


if __name__ == "__main__":
    main()
