"""Forward + backward time of every loss at B=4, T=20, D=128 (the published setting) and B=8, T=64.

GTA is also timed against a cell-by-cell implementation of the same formulas (tests/_helpers/loss_reference.py,
float64 autograd, one DTW cell at a time as the published code fills its table). Targets (issue #3): GTA's
whole loss under 10 ms at B=4, T=20 on 2 CPU cores, and within 2x of TCC's time at B=8, T=64.

    python benchmarks/loss_speed.py [--threads 2] [--repeats 30] [--reference-repeats 2] [--out FILE.md]

Embeddings are random L2-normalised float32 tensors; each number is the median wall time of ``--repeats``
forward + backward passes after two warm-up passes (which include any JIT compilation).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gtalign.io import atomic_write_text
from gtalign.losses import available, create

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests._helpers import loss_reference  # noqa: E402  (the independent cell-by-cell reference of the tests)

SETTINGS = ((4, 20), (8, 64))
DIM = 128


def fwd_bwd_seconds(fn, embs: torch.Tensor, repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn(leaf).backward()`` on a fresh leaf copy of ``embs``."""
    times = []
    for k in range(warmup + repeats):
        leaf = embs.detach().clone().requires_grad_(True)
        start = time.perf_counter()
        fn(leaf).backward()
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def embeddings(batch: int, frames: int, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(batch * 1000 + frames)
    return F.normalize(torch.randn(batch, frames, DIM, generator=g), dim=-1).to(dtype)


def loss_fn(name: str, frames: int):
    loss = create(name, **({"dim": DIM, "seed": 0} if name in ("sal", "speednet") else {}))
    steps = None
    if name == "tcn":
        steps = torch.arange(frames) * 3

    def run(embs):
        extra = {} if steps is None else {"steps": steps.expand(embs.shape[:2])}
        return loss(embs, **extra)

    return run


def reference_fn(batch: int):
    pairs = [(0, j) for j in range(1, batch)]
    return lambda embs: loss_reference.gta_loss(list(embs), pairs)


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{platform.processor() or platform.machine()}, {cores} of {os.cpu_count()} CPU cores usable, "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch (and numba) threads")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--reference-repeats", type=int, default=2, help="0 skips the cell-by-cell reference")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    times: dict[tuple[str, int, int], float] = {}
    for batch, frames in SETTINGS:
        embs = embeddings(batch, frames)
        for name in available():
            times[name, batch, frames] = fwd_bwd_seconds(loss_fn(name, frames), embs, args.repeats)
            print(f"{name:9s} B={batch} T={frames}: {times[name, batch, frames] * 1e3:8.2f} ms", flush=True)
    if args.reference_repeats:
        for frames in (20, 40):
            seconds = fwd_bwd_seconds(reference_fn(4), embeddings(4, frames, torch.float64),
                                      args.reference_repeats, warmup=0)
            times["gta cell-by-cell reference (float64)", 4, frames] = seconds
            print(f"reference B=4 T={frames}: {seconds:.2f} s", flush=True)

    lines = [f"# Loss forward + backward time (D={DIM}, float32, median of {args.repeats})", "",
             f"Machine: {machine()}.", "", "| loss | B | T | time (ms) |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {b} | {t} | {s * 1e3:.2f} |" for (name, b, t), s in times.items()]
    gta_small, (gta_big, tcc_big) = times["gta", 4, 20], (times["gta", 8, 64], times["tcc", 8, 64])
    lines += ["", f"- GTA at B=4, T=20: {gta_small * 1e3:.2f} ms (target < 10 ms: "
                  f"{'met' if gta_small < 0.010 else 'NOT met'}).",
              f"- GTA / TCC at B=8, T=64: {gta_big / tcc_big:.2f}x (target <= 2x: "
              f"{'met' if gta_big <= 2 * tcc_big else 'NOT met'})."]
    if ("gta cell-by-cell reference (float64)", 4, 20) in times:
        ref = times["gta cell-by-cell reference (float64)", 4, 20]
        lines.append(f"- Cell-by-cell reference at B=4, T=20: {ref:.2f} s, {ref / gta_small:.0f}x GTA's time.")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        atomic_write_text(args.out, table)


if __name__ == "__main__":
    main()
