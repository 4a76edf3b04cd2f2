"""`gtalign align --stride K`: the networks on every K-th frame only, against every frame, on the real-footage pairs.

The pairs of `align_real.py` (same clips, warps and copies, in the same work folder); for each stride, every video's
default feature streams (cached per stride beside `align_real.py`'s) and the default path. Reported per stride: the
error measures of `align_real.py`, the extraction time of all videos (two at a time, as `align` runs them; from
the cache when computed before: then the time it took then), and the pairs that moved most. `docs/results.md` gets
the table (section align-stride).

Usage: ``python benchmarks/align_stride.py [--strides 2 3] [--out bench_out/align_real]``.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from align_real import extract_cached, make_pairs, metrics, pooled  # noqa: E402
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402
from fetch_clips import cache_dir  # noqa: E402

from gtalign.apps.align import FEATURE_WORKERS, align_features  # noqa: E402
from gtalign.apps.features import DEFAULT_FEATURES, FeatureExtractor, FeatureSpec  # noqa: E402

_SHARED: dict = {}


def _align(k: int) -> dict:
    import torch

    torch.set_num_threads(1)
    pair, feats = _SHARED["pairs"][k], _SHARED["feats"]
    found = align_features(FeatureSpec.parse(DEFAULT_FEATURES), feats[pair.a], feats[pair.b], pair.fps_a, pair.fps_b)
    return metrics(found.alignment.b_of_a, pair)


def evaluate(pairs, stride: int, cache: Path) -> tuple[list[dict], float]:
    """Per-pair metrics of the default at `stride`, and the seconds the extraction took (all videos)."""
    done = extract_cached(pairs, FeatureExtractor("pose+crop+imagenet", stride=stride), cache)
    _SHARED.update(pairs=pairs, feats={path: f for path, (f, _) in done.items()})
    with multiprocessing.get_context("fork").Pool(2) as pool:
        rows = pool.map(_align, range(len(pairs)))
    return rows, sum(s for _, s in done.values()) / FEATURE_WORKERS


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strides", type=int, nargs="+", default=[2, 3])
    p.add_argument("--out", default="bench_out/align_real", help="align_real.py's work folder")
    p.add_argument("--no-docs", action="store_true", help="do not update docs/results.md")
    args = p.parse_args()
    out = Path(args.out)
    pairs = make_pairs(cache_dir(), out, 2)
    found = {k: evaluate(pairs, k, out / "features") for k in [1, *args.strides]}
    rows, moved = [], []
    for k, (per_pair, seconds) in found.items():
        rows.append(["every frame (default)" if k == 1 else f"--stride {k}",
                     round(float(np.mean([r["mean"] for r in per_pair])), 2),
                     round(100 * float(np.mean([r["within3"] for r in per_pair])), 1),
                     pooled(per_pair),
                     round(float(np.median([r["mean"] - b["mean"] for r, b in zip(per_pair, found[1][0])])), 2),
                     round(seconds / 60, 1), f"{found[1][1] / seconds:.2f}x"])
        if k > 1:
            worst = sorted(zip(pairs, per_pair, found[1][0]), key=lambda t: t[2]["mean"] - t[1]["mean"])[:4]
            moved.append(f"--stride {k}: " + ", ".join(f"{pr.name} {b['mean']:.2f} -> {r['mean']:.2f}"
                                                        for pr, r, b in worst))
    table = markdown_table(["features of the default", "mean error (frames)", "within 3 (%)",
                            "all frames pooled: mean error, within 3", "median change per pair (frames)",
                            "extraction, all videos (min)", "extraction speed-up"], rows)
    text = (f"### `align --stride K` on the real-footage pairs (`benchmarks/align_stride.py`, {len(pairs)} pairs)\n\n"
            f"{machine_line(machine_info())}\n\n{table}\nExtraction times are those of the run that filled each "
            "stride's cache (two videos at a time, 2 threads). The pairs that lost most: " + "; ".join(moved) + ".\n")
    publish(text, "align-stride", not args.no_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
