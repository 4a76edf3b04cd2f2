"""GPU speed of smoothDTW forward + backward: the Triton kernel against the torch anti-diagonal fallback and
pysdtw's CUDA path (issue #9), on a precomputed contrastive cost of random L2-normalised 128-D embeddings.

Each row times ``score = dtw(cost); score.sum().backward()`` for a leaf cost ``(B, N, N)`` (median of CUDA-event
timings after one warm-up call, which also compiles the kernels), float32, gamma 0.1. pysdtw implements only
soft-DTW, so it is compared at ``min_gamma``; the Triton kernel is timed at both relaxations.

    python benchmarks/dtw_speed_gpu.py [--batches 16 64] [--lengths 64 256 1024 2048] [--out DIR] [--tune]
"""
from __future__ import annotations

import argparse
import functools
import statistics
import time
import types
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from gtalign.io import atomic_write_text, write_json
from gtalign.ops import contrastive_cost, dtw_triton
from gtalign.ops.dtw import BACKENDS, _SmoothDTW, smooth_dtw

GAMMA = 0.1


def gpu_ms(step: Callable[[], None], reps: int, budget_s: float) -> float:
    """Median milliseconds of ``step`` over up to ``reps`` CUDA-event timings, after one warm-up call; stops
    early once ``budget_s`` seconds of timed calls are spent."""
    step()
    torch.cuda.synchronize()
    times: list[float] = []
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(reps):
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
        if sum(times) > 1000 * budget_s:
            break
    return statistics.median(times)


def triton_dtw(relaxation: str, block: int | None = None, num_warps: int | None = None) -> Callable:
    """``cost (B, N, M) -> scores (B,)`` through the Triton backend: ``smooth_dtw(backend="triton")`` once it is
    registered in BACKENDS, else the same autograd Function called directly (also to force a launch config)."""
    if "triton" in BACKENDS and block is None and num_warps is None:
        return functools.partial(smooth_dtw, gamma=GAMMA, relaxation=relaxation, backend="triton")
    backend = types.SimpleNamespace(forward=functools.partial(dtw_triton.forward, block=block, num_warps=num_warps),
                                    backward=dtw_triton.backward)

    def run(cost: torch.Tensor) -> torch.Tensor:
        full = torch.full((cost.shape[0],), 1, dtype=torch.long, device=cost.device)
        return _SmoothDTW.apply(cost, full * cost.shape[1], full * cost.shape[2], GAMMA, relaxation, backend, False)

    return run


def torch_dtw(relaxation: str) -> Callable:
    return functools.partial(smooth_dtw, gamma=GAMMA, relaxation=relaxation, backend="torch")


def pysdtw_dtw() -> Callable | None:
    """pysdtw's CUDA soft-DTW on a given cost, or None where pysdtw (or numba's CUDA target) is missing."""
    import numpy as np

    if not hasattr(np, "row_stack"):  # numba-cuda still calls this alias of vstack, removed in NumPy 2.5
        np.row_stack = np.vstack
    try:
        from pysdtw.sdtw_cuda import SoftDTWcuda
    except Exception:  # noqa: BLE001 - any import failure means "not available here"
        return None

    def run(cost: torch.Tensor) -> torch.Tensor:
        b, n, m = cost.shape
        lengths = torch.tensor([[n, m]] * b, device=cost.device)
        return SoftDTWcuda.apply(cost, lengths, GAMMA, 0.0)  # bandwidth 0: no band

    return run


def methods() -> dict[str, Callable]:
    out = {"triton smoothmin": triton_dtw("smoothmin"), "triton min_gamma": triton_dtw("min_gamma"),
           "torch min_gamma": torch_dtw("min_gamma")}
    pysdtw = pysdtw_dtw()
    if pysdtw is not None:
        out["pysdtw min_gamma"] = pysdtw
    return out


def leaf_cost(b: int, n: int, dim: int) -> torch.Tensor:
    gen = torch.Generator(device="cuda").manual_seed(b * n)
    x = torch.nn.functional.normalize(torch.randn(b, n, dim, device="cuda", generator=gen), dim=-1)
    y = torch.nn.functional.normalize(torch.randn(b, n, dim, device="cuda", generator=gen), dim=-1)
    return contrastive_cost(x, y, temperature=0.1).detach().requires_grad_(True)


def time_method(fn: Callable, cost: torch.Tensor, reps: int, budget_s: float) -> float | str:
    def step() -> None:
        cost.grad = None
        fn(cost).sum().backward()

    try:
        return gpu_ms(step, reps, budget_s)
    except Exception as err:  # noqa: BLE001 - a baseline that fails is reported, not fatal
        torch.cuda.empty_cache()
        return f"failed: {type(err).__name__}: {str(err)[:120]}"


def speed_rows(batches: list[int], lengths: list[int], dim: int, reps: int, budget_s: float,
               report: Callable[[list[dict]], None]) -> list[dict]:
    """One row per (B, N): milliseconds per method; ``report(rows)`` after every row."""
    rows = []
    configs = [(b, n) for b in batches for n in lengths]
    for b, n in tqdm(configs, desc="dtw speed (GPU)"):
        cost = leaf_cost(b, n, dim)
        row: dict = {"batch": b, "n": n}
        for name, fn in methods().items():
            row[name] = time_method(fn, cost, reps, budget_s)
        del cost
        torch.cuda.empty_cache()
        rows.append(row)
        report(rows)
    return rows


def tune_rows(sizes: list[int], batch: int, dim: int, reps: int) -> list[dict]:
    """Triton launch configurations (block, num_warps) around the default, smoothmin, B = ``batch``."""
    rows = []
    for n in sizes:
        cost = leaf_cost(batch, n, dim)
        default = dtw_triton.launch_config(n, n)
        for block in sorted({min(dtw_triton.MAX_BLOCK, max(32, default[0] // 2)), default[0]}):
            for warps in (1, 2, 4, 8, 16):
                if warps * 32 > 2 * block:
                    continue
                ms = time_method(triton_dtw("smoothmin", block, warps), cost, reps, 5.0)
                rows.append({"batch": batch, "n": n, "block": block, "num_warps": warps, "ms": ms,
                             "default": (block, warps) == default})
    return rows


def fmt(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def speed_markdown(rows: list[dict]) -> str:
    names = [k for k in rows[0] if k not in ("batch", "n")]
    lines = ["| B | N=M | " + " | ".join(f"{name} (ms)" for name in names) + " | speed-up vs pysdtw |",
             "|---:|---:|" + "---:|" * (len(names) + 1)]
    for row in rows:
        ours, theirs = row.get("triton min_gamma"), row.get("pysdtw min_gamma")
        ratio = f"{theirs / ours:.1f}x" if isinstance(ours, float) and isinstance(theirs, float) else "-"
        lines.append(f"| {row['batch']} | {row['n']} | " + " | ".join(fmt(row[k]) for k in names) + f" | {ratio} |")
    return "\n".join(lines)


def device_line() -> str:
    import triton

    props = torch.cuda.get_device_properties(0)
    return (f"{props.name}, {props.multi_processor_count} SMs, {props.total_memory / 2**30:.0f} GiB; "
            f"torch {torch.__version__}, triton {triton.__version__}, CUDA {torch.version.cuda}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 1024, 2048])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--budget", type=float, default=3.0, help="seconds of timed calls per cell at most")
    parser.add_argument("--tune", action="store_true", help="also time Triton launch configurations")
    parser.add_argument("--out", type=Path, default=None, help="folder for dtw_speed_gpu.md / .json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("dtw_speed_gpu.py needs a CUDA GPU")
    started = time.perf_counter()
    header = f"# dtw_speed_gpu: forward + backward, float32, gamma {GAMMA}; {device_line()}\n\n"

    def report(rows: list[dict], tuned: list[dict] = ()) -> str:
        text = header + speed_markdown(rows) + "\n"
        if tuned:
            text += "\n| B | N=M | block | num_warps | ms | default |\n|---:|---:|---:|---:|---:|---|\n"
            text += "\n".join(f"| {r['batch']} | {r['n']} | {r['block']} | {r['num_warps']} | {fmt(r['ms'])} | "
                              f"{'yes' if r['default'] else ''} |" for r in tuned) + "\n"
        text += f"\n({time.perf_counter() - started:.0f} s)\n"
        if args.out is not None:
            atomic_write_text(args.out / "dtw_speed_gpu.md", text)
            write_json(args.out / "dtw_speed_gpu.json", {"device": device_line(), "speed": rows, "tune": list(tuned)})
        return text

    rows = speed_rows(args.batches, args.lengths, args.dim, args.reps, args.budget, report)
    tuned = tune_rows([256, 1024], max(args.batches), args.dim, args.reps) if args.tune else []
    print(report(rows, tuned))


if __name__ == "__main__":
    main()
