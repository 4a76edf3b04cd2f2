"""`gtalign align --fit` on the real-footage alignment benchmark: does fitting ever hurt, and how often does it help?

For every pair of `align_real.py` (one copy per clip), the embedder is fitted on the pair's two videos with the
settings `align --fit` uses, checks itself on held-out re-timed copies of the videos (`apps.fit_check`), and is used
only if it beats the default feature streams there. Reported side by side, in one run: the default streams, what
`--fit` ends up using after its check, and the fitted embedder used regardless of the check; per pair, which was
chosen and whether `--fit` was worse than the default. The table goes to `docs/results.md`.

Usage: ``python benchmarks/align_fit.py [--pairs N] [--out DIR]`` (about 1-2 minutes per pair on 2 cores). Each pair's
result is kept in its work folder, so an interrupted run continues where it stopped.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from align_real import cached_features, make_pairs, metrics  # noqa: E402
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402
from fetch_clips import cache_dir  # noqa: E402

from gtalign.apps.align import align_features  # noqa: E402
from gtalign.apps.alignment import embedding_alignment  # noqa: E402
from gtalign.apps.encoders import CheckpointEncoder  # noqa: E402
from gtalign.apps.features import DEFAULT_FEATURES, FeatureExtractor  # noqa: E402
from gtalign.apps.fit import FitSettings  # noqa: E402
from gtalign.apps.fit_check import fit_and_check  # noqa: E402
from gtalign.apps.inputs import open_videos  # noqa: E402


def run_pair(pair, extractor, cache: Path, work: Path) -> dict:
    fa, _ = cached_features(extractor, pair.a, pair.fps_a, cache)
    fb, _ = cached_features(extractor, pair.b, pair.fps_b, cache)
    default = align_features(extractor.spec, fa, fb, pair.fps_a, pair.fps_b).alignment.b_of_a
    source = open_videos([pair.a, pair.b], None)
    t = time.perf_counter()
    found = fit_and_check(source, source, extractor, work, FitSettings(device="cpu"), progress=False,
                          features=[fa, fb])
    fitted_encoder = found.encoder
    if fitted_encoder is None:  # the check kept the default; the fitted embedder is still measured beside it
        fitted_encoder = CheckpointEncoder(found.checkpoint, "cpu", feature_cache=work / "fit" / "feature_cache")
    fitted = embedding_alignment(fitted_encoder.encode(source, 0), fitted_encoder.encode(source, 1),
                                 pair.fps_a, pair.fps_b).b_of_a
    seconds = time.perf_counter() - t
    used = fitted if found.check.used == "fitted" else default
    return {"pair": pair.name, "used": found.check.used, "check": found.check.to_json(), "seconds": seconds,
            "default": metrics(default, pair), "fit": metrics(used, pair), "fitted alone": metrics(fitted, pair)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench_out/align_real", help="work folder of align_real.py (copies, features)")
    p.add_argument("--pairs", type=int, default=None,
                   help="only N pairs, spread evenly over the benchmark's (its clips and its cameras)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-docs", action="store_true", help="do not update docs/results.md")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    t0 = time.perf_counter()
    pairs = make_pairs(cache_dir(), out, 1)
    if args.pairs is not None and args.pairs < len(pairs):
        pairs = [pairs[k] for k in np.unique(np.linspace(0, len(pairs) - 1, max(1, args.pairs)).round().astype(int))]
    extractor = FeatureExtractor(DEFAULT_FEATURES)
    rows, reused = [], 0
    for k, pair in enumerate(pairs):
        work = out / "fit_runs" / pair.name.replace("/", "_").replace(" ", "_").replace(">", "")
        done = work / "result.json"  # a pair finished by an interrupted run is not fitted again
        kept = json.loads(done.read_text()) if done.exists() else None
        if kept is not None and kept["pair"] == pair.name:
            rows.append(kept)
            reused += 1
        else:
            rows.append(run_pair(pair, extractor, out / "features", work))
            done.write_text(json.dumps(rows[-1], indent=1))
        r = rows[-1]
        print(f"[{k + 1}/{len(pairs)}] {pair.name}: default {r['default']['mean']:.2f}, --fit {r['fit']['mean']:.2f} "
              f"({r['used']}), fitted alone {r['fitted alone']['mean']:.2f}", file=sys.stderr, flush=True)
    (out / "fit_results.json").write_text(json.dumps(rows, indent=1))
    summary = []
    for name in ("default", "fit", "fitted alone"):
        label = {"default": f"default (`{DEFAULT_FEATURES}`)", "fit": "`--fit` (after its check)",
                 "fitted alone": "fitted embedder, check ignored"}[name]
        summary.append([label, round(float(np.mean([r[name]["mean"] for r in rows])), 2),
                        round(100 * float(np.mean([r[name]["within3"] for r in rows])), 1),
                        sum(r[name]["mean"] > r["default"]["mean"] + 1e-9 for r in rows)])
    table = markdown_table(["alignment", "mean error (frames)", "within 3 (%)", "pairs worse than the default"],
                           summary)
    per_pair = markdown_table(["pair", "check: default / fitted error on its copies", "used", "default", "--fit",
                               "fitted alone"], [
        [r["pair"], f"{r['check']['default_error_frames']:.2f} / {r['check']['fitted_error_frames']:.2f}", r["used"],
         round(r["default"]["mean"], 2), round(r["fit"]["mean"], 2), round(r["fitted alone"]["mean"], 2)]
        for r in rows])
    total = time.perf_counter() - t0
    chosen = sum(r["used"] == "fitted" for r in rows)
    earlier = (f"{reused} of the pairs were read from an earlier, interrupted run's results: the time above leaves "
               "them out.\n\n") if reused else ""
    text = (f"### `align --fit` on the real-footage pairs (`make bench-fit`, {len(rows)} pairs, {total / 60:.1f} min)"
            f"\n\n{earlier}{machine_line(machine_info())}\n\n{table}\nThe fitted embedder was chosen on {chosen} of "
            f"{len(rows)} pairs. Per pair (errors in frames; fit time {np.mean([r['seconds'] for r in rows]):.0f} s "
            "per pair):"
            f"\n\n{per_pair}")
    publish(text, "align-fit", not args.no_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
