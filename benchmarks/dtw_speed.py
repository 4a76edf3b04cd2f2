"""Speed of smoothDTW forward + backward on the CPU against the soft-DTW libraries people use (issue #2).

For B = 16 pairs of D = 128 embeddings and N = M in {32, 64, 128, 256, 512}, times
``loss = sum(dtw(contrastive_cost(x, y)))`` and ``loss.backward()`` (cost matrix included) on 2 threads, median of
repeated runs, interleaved so that load changes hit every method alike:

- gtalign (numba kernel, and the torch anti-diagonal fallback),
- the per-cell loop as the published implementation computes it (one cell at a time with autograd; N = 32 only),
- pysdtw, tslearn (``SoftDTWLossPyTorch``), ddtw (soft-DTW ``SDTW`` and its ``smoothDTW``), when installed
  (``pip install -e '.[bench]'``), each given the same contrastive cost.

Also reports the sweep's own rate (gtalign, cost matrix excluded) in cells per second. Writes
``bench_out/dtw_speed.md``; ``--docs`` also replaces the DTW CPU section of ``docs/performance.md``.

    python benchmarks/dtw_speed.py [--sizes 32 64 128 256 512] [--repeats 7] [--docs]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from pathlib import Path

import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved_ms, machine_info, median_ms, set_threads, update_section, write_table  # noqa: E402

from gtalign.ops import contrastive_cost, smooth_dtw  # noqa: E402

GAMMA = 0.1  # gamma_s of the DTW and gamma_f of the contrastive cost, as in the paper
BATCH, DIM = 16, 128
ROOT = Path(__file__).resolve().parent.parent


def cost_of(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return contrastive_cost(x, y, temperature=GAMMA)


def published_loop(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """smoothDTW one pair and one cell at a time with autograd, as the published implementation computes it
    (its TensorFlow mask-assignment, which makes each cell cost O(NM), is replaced by a list of cells)."""
    scores = []
    for b in range(x.shape[0]):
        cost = cost_of(x[b], y[b])
        n, m = cost.shape
        big = torch.tensor(torch.finfo(cost.dtype).max)  # the published border value
        r = [[big] * (m + 1) for _ in range(n + 1)]
        r[0][0] = torch.tensor(0.0)
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                neighbours = torch.stack((r[i][j - 1], r[i - 1][j - 1], r[i - 1][j]))
                weights = torch.softmax(-neighbours / GAMMA, 0)
                r[i][j] = cost[i - 1, j - 1] + (weights * neighbours).sum()
        scores.append(r[n][m])
    return torch.stack(scores)


def peers() -> dict:
    """The installed peer libraries, each as ``name -> loss(x, y)`` returning per-pair or mean scores."""
    found = {}
    if importlib.util.find_spec("pysdtw"):
        import pysdtw

        sdtw = pysdtw.SoftDTW(gamma=GAMMA, dist_func=cost_of, use_cuda=False)
        found["pysdtw"] = sdtw
    if importlib.util.find_spec("tslearn"):
        from tslearn.metrics import SoftDTWLossPyTorch

        found["tslearn"] = SoftDTWLossPyTorch(gamma=GAMMA, dist_func=cost_of)
    if importlib.util.find_spec("ddtw"):
        from ddtw.ddtw_variants import SDTW, smoothDTW

        soft = SDTW(gamma=GAMMA, normalization="none", backend="cpu_numba")
        smooth = smoothDTW(gamma=GAMMA, normalization="none", backend="cpu_numba")
        found["ddtw (soft-DTW)"] = lambda x, y: soft(C=cost_of(x, y))
        found["ddtw (smoothMin)"] = lambda x, y: smooth(C=cost_of(x, y))
    return found


def step(loss_fn, x: torch.Tensor, y: torch.Tensor):
    """One forward + backward of ``loss_fn`` on fresh leaves."""
    def run():
        xl, yl = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
        loss_fn(xl, yl).sum().backward()
    return run


def sweep_step(n: int):
    """gtalign's forward + backward sweep alone on a precomputed cost (cost matrix excluded)."""
    cost = torch.rand(BATCH, n, n) * 10

    def run():
        leaf = cost.detach().requires_grad_(True)
        smooth_dtw(leaf, GAMMA).sum().backward()
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stat", choices=["median", "min"], default="median",
                        help="statistic of the repeated runs (min: the least disturbed run on a busy machine)")
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "dtw_speed.md"))
    parser.add_argument("--docs", action="store_true", help="also update the DTW section of docs/performance.md")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    methods = {"gtalign (numba)": lambda x, y: smooth_dtw(cost_of(x, y), GAMMA),
               "gtalign (torch fallback)": lambda x, y: smooth_dtw(cost_of(x, y), GAMMA, backend="torch")}
    peer_methods = peers()
    missing = {"pysdtw", "tslearn", "ddtw (soft-DTW)"} - set(peer_methods)
    if missing:
        print(f"not installed (pip install -e '.[bench]'): {sorted(missing)}", file=sys.stderr)
    methods.update(peer_methods)
    methods["published per-cell loop"] = published_loop
    names = list(methods)
    rows = []
    gen = torch.Generator().manual_seed(0)
    for n in tqdm(args.sizes, desc="N=M"):
        x = torch.nn.functional.normalize(torch.randn(BATCH, n, DIM, generator=gen), dim=-1)
        y = torch.nn.functional.normalize(torch.randn(BATCH, n, DIM, generator=gen), dim=-1)
        fns = {k: step(methods[k], x, y) for k in names if k != "published per-cell loop"}
        fns["cost matrix"] = step(cost_of, x, y)
        fns["sweep"] = sweep_step(n)
        times = interleaved_ms(fns, args.repeats, stat=statistics.median if args.stat == "median" else min)
        if n <= 32:  # seconds per run: once
            times["published per-cell loop"] = median_ms(step(published_loop, x, y), 1, warmup=0)
        cost_ms, sweep_ms = times.pop("cost matrix"), times.pop("sweep")
        fastest_peer = min((t for k, t in times.items() if k in peer_methods), default=None)
        ours = times["gtalign (numba)"]
        rows.append([n] + [round(times[k], 2) if k in times else None for k in names]
                    + [round(cost_ms, 2), round(fastest_peer / ours, 2) if fastest_peer else None,
                       f"{BATCH * n * n / (sweep_ms / 1e3):.2e}"])
    header = (["N=M"] + [f"{k} (ms)" for k in names]
              + ["cost matrix fwd+bwd (ms)", "fastest peer / gtalign", "gtalign sweep (cells/s)"])
    notes = (f"B={BATCH} pairs, D={DIM}, float32, gamma_s = gamma_f = {GAMMA}, {args.threads} threads; forward + "
             "backward of the summed scores of the contrastive cost (its time is included in every column and also "
             f"shown alone); {args.stat} of {args.repeats} interleaved runs (1 for the per-cell loop). The sweep "
             "rate times "
             "smooth_dtw alone on a precomputed cost. ddtw and pysdtw/tslearn compute soft-DTW (min^gamma); ddtw's "
             "smoothMin and gtalign compute GTA's smoothMin.")
    machine = machine_info()
    text = write_table(args.out, "smoothDTW on the CPU (benchmarks/dtw_speed.py)", header, rows, machine, notes)
    print(text)
    if args.docs:
        update_section(ROOT / "docs" / "performance.md", "dtw-cpu", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
