"""Speed of the DTW variants against the plain smoothDTW sweep, side by side in one run (issue: each variant within
1.5x of the plain kernel).

For B = 16 pairs and N = M in {64, 256, 512}, times forward + backward of the summed scores on a precomputed float32
cost (gamma 0.1, numba backend, 2 threads), the runs interleaved: plain `smooth_dtw`, with a Sakoe-Chiba band of 10%,
with an Itakura parallelogram (max slope 2), `subsequence_dtw`, `drop_dtw` (drops allowed in both sequences: four
tables and 14 soft-minimum terms a cell where plain DTW has one table and 3) and `soft_dtw_divergence` (on
embeddings: three DTWs and their squared Euclidean costs), the last against its own parts run by hand (three plain
`smooth_dtw` of `sqeuclidean_cost`, forward + backward to the embeddings). Writes ``bench_out/dtw_variants.md``;
``--docs`` also replaces its section of ``docs/performance.md``.

    python benchmarks/dtw_variants.py [--sizes 64 256 512] [--repeats 7] [--docs]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved_ms, machine_info, publish, set_threads, write_table  # noqa: E402

from gtalign.ops import Itakura, drop_dtw, smooth_dtw, soft_dtw_divergence, sqeuclidean_cost, subsequence_dtw  # noqa: E402

GAMMA, BATCH, DIM = 0.1, 16, 128
ROOT = Path(__file__).resolve().parent.parent


def on_cost(fn, cost: torch.Tensor):
    """One forward + backward of ``fn(leaf)`` on a fresh leaf copy of ``cost``."""
    def run():
        leaf = cost.detach().requires_grad_(True)
        fn(leaf).sum().backward()
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 512])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "dtw_variants.md"))
    parser.add_argument("--docs", action="store_true", help="also update its section of docs/performance.md")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    variants = {
        "plain": lambda c: smooth_dtw(c, GAMMA, backend="numba"),
        "band 10%": lambda c: smooth_dtw(c, GAMMA, backend="numba", band=0.1),
        "Itakura 2": lambda c: smooth_dtw(c, GAMMA, backend="numba", band=Itakura(2.0)),
        "subsequence": lambda c: subsequence_dtw(c, GAMMA, backend="numba"),
        "Drop-DTW": lambda c: drop_dtw(c, 5.0, 5.0, GAMMA, backend="numba"),
    }
    gen = torch.Generator().manual_seed(0)
    rows = []
    for n in args.sizes:
        cost = torch.rand(BATCH, n, n, generator=gen) * 10
        x, y = torch.randn(BATCH, n, DIM, generator=gen), torch.randn(BATCH, n, DIM, generator=gen)
        fns = {k: on_cost(f, cost) for k, f in variants.items()}

        def divergence(x=x, y=y):
            xl, yl = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
            soft_dtw_divergence(xl, yl, gamma=GAMMA).sum().backward()

        def three_sweeps(x=x, y=y):
            xl, yl = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
            total = sum(smooth_dtw(sqeuclidean_cost(a, b), GAMMA, "min_gamma", backend="numba").sum()
                        for a, b in ((xl, yl), (xl, xl), (yl, yl)))
            total.backward()
        fns["divergence"], fns["three sweeps"] = divergence, three_sweeps
        times = interleaved_ms(fns, args.repeats, stat=statistics.median)
        plain = times["plain"]
        rows.append([n] + [f"{times[k]:.1f} ({times[k] / plain:.2f}x)" for k in variants]
                    + [f"{times['divergence']:.1f} ({times['divergence'] / times['three sweeps']:.2f}x)"])
    header = (["N=M"] + [f"{k} ms (x plain)" for k in variants]
              + ["divergence ms (x its three sweeps by hand)"])
    notes = (f"B={BATCH}, float32, gamma {GAMMA}, numba backend, {args.threads} threads; forward + backward of the "
             f"summed scores, median of {args.repeats} interleaved runs. The band and the parallelogram mask the cost "
             "and sweep the whole table (no time saved, some lost to the mask); subsequence sweeps from a free row 0 "
             "and returns the last row; Drop-DTW (drop cost 5 per frame) runs four tables, 14 soft-minimum terms a "
             "cell, in float64 with 8 pairs as SIMD lanes; the divergence (three DTWs on "
             "D=128 embeddings, costs included) is compared with the same three "
             "`smooth_dtw(sqeuclidean_cost(...))` written by hand.")
    text = write_table(args.out, "DTW variants against the plain sweep (benchmarks/dtw_variants.py)", header, rows,
                       machine_info(), notes)
    publish(text, "dtw-variants", args.docs, doc="docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
