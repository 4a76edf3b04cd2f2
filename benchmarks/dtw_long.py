"""Long sequences: soft-DTW of one pair of N = M frames up to 20,000, time and peak memory (issue #16).

Each method runs forward + backward (gradients with respect to both sequences, squared Euclidean cost included) of
one pair of D = 64 float32 sequences, ``min_gamma`` (soft-DTW) at gamma 0.1, in a fresh process of its own so that
its peak resident memory (``ru_maxrss``, less the process's peak after imports and a small warm-up run) is its own:

- gtalign, block by block (`gtalign.ops.long_smooth_dtw`: memory about ``sqrt(N) M``),
- gtalign with the whole cost matrix and table (`smooth_dtw` on `sqeuclidean_cost`, numba),
- tslearn (``SoftDTWLossPyTorch``) and pysdtw (``SoftDTW``, CPU), when installed (``pip install -e '.[bench]'``).

A method whose estimated memory exceeds ``--max-gb`` at a size is not run there and says how much it would need.
Writes ``bench_out/dtw_long.md``; ``--docs`` also replaces the long-sequence section of ``docs/performance.md``.

    python benchmarks/dtw_long.py [--sizes 1000 4000 10000 20000] [--max-gb 8] [--docs]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, set_threads, update_section, write_table  # noqa: E402

GAMMA, DIM = 0.1, 64
ROOT = Path(__file__).resolve().parent.parent
#: Bytes per cell (N x M) each method added at its peak at N = M = 4000 on this benchmark (28, 980 and 27; tslearn
#: builds the (N, M, D) differences), rounded up: only to decide which runs fit in --max-gb.
BYTES_PER_CELL = {"gtalign one table": 32, "tslearn": 1000, "pysdtw": 32}
METHODS = ("gtalign long (blocks)", "gtalign one table", "tslearn", "pysdtw")


def loss_of(name: str):
    from gtalign.ops import long_smooth_dtw, smooth_dtw, sqeuclidean_cost

    if name == "gtalign long (blocks)":
        return lambda x, y: long_smooth_dtw(x, y, GAMMA, "min_gamma")
    if name == "gtalign one table":
        return lambda x, y: smooth_dtw(sqeuclidean_cost(x, y), GAMMA, "min_gamma")
    if name == "tslearn":
        from tslearn.metrics import SoftDTWLossPyTorch

        loss = SoftDTWLossPyTorch(gamma=GAMMA)
        return lambda x, y: loss(x[None], y[None]).sum()
    if name == "pysdtw":
        import pysdtw

        loss = pysdtw.SoftDTW(gamma=GAMMA, use_cuda=False)
        return lambda x, y: loss(x[None], y[None]).sum()
    raise ValueError(name)  # pragma: no cover - names come from METHODS


def one_run(name: str, n: int, threads: int) -> dict:
    """Forward + backward of `name` on one pair of n frames, in this process: seconds and peak MB added."""
    import torch

    set_threads(threads)
    loss = loss_of(name)
    gen = torch.Generator().manual_seed(0)

    def step(k: int) -> float:
        x = torch.randn(k, DIM, generator=gen).requires_grad_(True)
        y = torch.randn(k, DIM, generator=gen).requires_grad_(True)
        t = time.perf_counter()
        value = loss(x, y)
        value.backward()
        return float(value.detach()), time.perf_counter() - t

    step(64)  # compiles and warms up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    value, seconds = step(n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mb": (peak - before) / 1024, "value": value}


def installed(name: str) -> bool:
    return name.startswith("gtalign") or importlib.util.find_spec(name) is not None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000, 20000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-gb", type=float, default=8.0, help="skip runs estimated to need more memory")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one run may take")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "dtw_long.md"))
    parser.add_argument("--docs", action="store_true", help="also update docs/performance.md")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.threads)))
        return 0
    names = [k for k in METHODS if installed(k.split()[0])]
    if len(names) < len(METHODS):
        print(f"not installed (pip install -e '.[bench]'): {sorted(set(METHODS) - set(names))}", file=sys.stderr)
    rows = []
    for n in args.sizes:
        row: list[object] = [n]
        times = {}
        for name in names:
            need_gb = BYTES_PER_CELL.get(name, 0) * n * n / 1e9
            if need_gb > args.max_gb:
                row.append(f"not run (needs about {need_gb:.0f} GB)")
                continue
            cmd = [sys.executable, __file__, "--one", name, str(n), "--threads", str(args.threads)]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=True)
            except subprocess.TimeoutExpired:
                row.append(f"over {args.timeout:.0f} s")
                continue
            except subprocess.CalledProcessError as e:
                row.append(f"failed ({e.stderr.strip().splitlines()[-1][:60]})")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            times[name] = r["seconds"]
            row.append(f"{r['seconds']:.2f} s, {r['peak_mb']:.0f} MB")
            print(f"N={n} {name}: {row[-1]}", file=sys.stderr, flush=True)
        peers = [t for k, t in times.items() if not k.startswith("gtalign")]
        ours = times.get("gtalign long (blocks)")
        row.append(f"{min(peers) / ours:.2f}" if peers and ours else "-")
        rows.append(row)
    header = ["N=M"] + names + ["fastest peer / long (time)"]
    notes = (f"One pair, D={DIM}, float32, soft-DTW (`min_gamma`) at gamma {GAMMA}, squared Euclidean cost, forward "
             f"+ backward to both sequences, {args.threads} threads; each run in a process of its own, memory as the "
             "peak resident memory it added. Runs estimated above the memory limit were not started "
             f"({args.max_gb:g} GB, on a machine with 24 GB).")
    title = "Long sequences: one pair of N = M frames, time and peak memory (benchmarks/dtw_long.py)"
    text = write_table(args.out, title, header, rows, machine_info(), notes)
    print(text)
    if args.docs:
        update_section(ROOT / "docs" / "performance.md", "dtw-long", text.replace("## ", "### ", 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
