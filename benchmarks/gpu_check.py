"""Equality of the Triton smoothDTW kernels on a CUDA GPU with the CPU kernel (numba), issue #9.

Every case runs forward and backward on the GPU (Triton) and on the CPU (``gtalign.ops.dtw_numba``) from the same
contrastive cost of random unit vectors, with padded lengths, and compares the outputs (scores, the last rows,
or the whole table with +inf border and padding) and the gradients with respect to the cost (from the scores, or
from random incoming gradients on every last-row or table cell). Errors are relative: values
``|a - b| / max(1, |b|)``, gradients ``max |a - b| / max |b|``. A repeated run must give bit-identical results (no
race between diagonals).

    python benchmarks/gpu_check.py [--out DIR] [--quick]
    TRITON_INTERPRET=1 python benchmarks/gpu_check.py --quick --device cpu   # dry run of this script, no GPU

Writes ``gpu_check.md`` and ``gpu_check.json`` under ``--out``; exits 1 if a case fails.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from gtalign.io import atomic_write_text, write_json
from gtalign.ops import contrastive_cost, dtw_numba, dtw_torch, dtw_triton

#: Where the kernels run: "cuda", or "cpu" under TRITON_INTERPRET=1 for a dry run of this script.
DEVICE = "cuda"
#: (value, gradient) tolerances by dtype.
TOLERANCE = {torch.float32: (1e-5, 1e-4), torch.float64: (1e-11, 1e-10)}


@dataclass
class Case:
    """One comparison: ``B`` pairs of ``N x M`` costs; lengths drawn in ``[N/2, N] x [M/2, M]`` when padded."""

    b: int
    n: int
    m: int
    relaxation: str = "smoothmin"
    output: str = "score"  # or "row" (the last row) or "table" (gtalign.ops.dtw.OUTPUTS)
    dtype: torch.dtype = torch.float32
    gamma: float = 0.1
    padded: bool = True
    offset: float = 0.0  # added to the cost: large table values test float32 exactness of the stored weights
    reference: str = "numba"  # or "torch" (the anti-diagonal fallback, on the GPU)
    first_row: bool = False  # a random row 0 (finite values and +inf), as long sequences and subsequences give

    @property
    def name(self) -> str:
        kind = self.output + (" first_row" if self.first_row else "")
        extra = f" +{self.offset:g}" if self.offset else ""
        return (f"B={self.b} {self.n}x{self.m} {self.relaxation} {kind} {str(self.dtype)[6:]} gamma={self.gamma:g}"
                f"{extra} vs {self.reference}")


def cases(quick: bool) -> list[Case]:
    small = [Case(8, 37, 53, relaxation, output, dtype) for relaxation in ("smoothmin", "min_gamma", "hard")
             for output in ("score", "row", "table") for dtype in (torch.float32, torch.float64)]
    small += [Case(8, 37, 53, relaxation, "row", torch.float64, first_row=True)
              for relaxation in ("smoothmin", "min_gamma", "hard")]
    larger = [Case(4, 1500, 2100),  # diagonals longer than one block: several chunks per diagonal
              Case(4, 1500, 2100, output="table"),
              Case(4, 1500, 2100, output="row"),
              Case(4, 1500, 2100, output="row", first_row=True),
              Case(4, 300, 300, gamma=1e-3, offset=50.0),
              Case(8, 256, 256, relaxation="min_gamma", reference="torch"),
              Case(16, 2048, 2048, output="table"),
              Case(64, 4096, 4096, padded=False),
              Case(64, 4096, 4096)]
    return small + ([] if quick else larger)


def sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def make_inputs(case: Case, seed: int):
    gen = torch.Generator(device=DEVICE).manual_seed(seed)
    x = torch.nn.functional.normalize(torch.randn(case.b, case.n, 128, device=DEVICE, generator=gen), dim=-1)
    y = torch.nn.functional.normalize(torch.randn(case.b, case.m, 128, device=DEVICE, generator=gen), dim=-1)
    cost = (contrastive_cost(x, y, temperature=0.1) + case.offset).to(case.dtype)
    if case.padded:
        len_x = torch.randint(case.n // 2 + 1, case.n + 1, (case.b,), device=DEVICE, generator=gen)
        len_y = torch.randint(case.m // 2 + 1, case.m + 1, (case.b,), device=DEVICE, generator=gen)
        len_x[0], len_y[0] = case.n, case.m
    else:
        len_x = torch.full((case.b,), case.n, device=DEVICE)
        len_y = torch.full((case.b,), case.m, device=DEVICE)
    shape = {"score": (case.b,), "row": (case.b, case.m), "table": (case.b, case.n + 1, case.m + 1)}[case.output]
    grad = torch.rand(shape, device=DEVICE, generator=gen, dtype=case.dtype)
    top = None
    if case.first_row:
        top = torch.rand(case.b, case.m + 1, device=DEVICE, generator=gen, dtype=case.dtype) * 3
        top[torch.rand(case.b, case.m + 1, device=DEVICE, generator=gen) < 0.2] = float("inf")
        top[:, 1] = 0.5
    return cost, len_x, len_y, grad, top


def value_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    if not torch.equal(torch.isinf(out), torch.isinf(ref)) or bool(torch.isnan(out).any()):
        return float("inf")
    finite = torch.isfinite(ref)
    return float(((out[finite] - ref[finite]).abs() / ref[finite].abs().clamp_min(1)).max())


def grad_error(grad: torch.Tensor, ref: torch.Tensor) -> float:
    if not bool(torch.isfinite(grad).all()):
        return float("inf")
    return float((grad - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def both_gradients(grads: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
    """The gradients to the cost and (when given) to row 0, flattened into one vector."""
    return torch.cat([g.reshape(-1) for g in grads if g is not None])


def run_case(case: Case, seed: int) -> dict:
    cost, len_x, len_y, grad, top = make_inputs(case, seed)
    sync()
    start = time.perf_counter()
    out, state = dtw_triton.forward(cost, len_x, len_y, case.gamma, case.relaxation, case.output, top)
    grad_cost = both_gradients(dtw_triton.backward(state, grad))
    sync()
    gpu_s = time.perf_counter() - start
    again, state_again = dtw_triton.forward(cost, len_x, len_y, case.gamma, case.relaxation, case.output, top)
    repeatable = torch.equal(again, out) and torch.equal(both_gradients(dtw_triton.backward(state_again, grad)),
                                                         grad_cost)
    del state, state_again, again
    if case.reference == "numba":
        cpu = [None if t is None else t.cpu() for t in (cost, len_x, len_y, grad, top)]
        del cost
        start = time.perf_counter()
        ref, ref_state = dtw_numba.forward(cpu[0], cpu[1], cpu[2], case.gamma, case.relaxation, case.output, cpu[4])
        ref_grad = both_gradients(dtw_numba.backward(ref_state, cpu[3]))
        ref_s = time.perf_counter() - start
        del ref_state
        out, grad_cost = out.cpu(), grad_cost.cpu()
    else:
        start = time.perf_counter()
        ref, ref_state = dtw_torch.forward(cost, len_x, len_y, case.gamma, case.relaxation, case.output, top)
        ref_grad = both_gradients(dtw_torch.backward(ref_state, grad))
        sync()
        ref_s = time.perf_counter() - start
    tol_value, tol_grad = TOLERANCE[case.dtype]
    result = {"case": case.name, "value_error": value_error(out, ref), "grad_error": grad_error(grad_cost, ref_grad),
              "repeatable": repeatable, "gpu_s": gpu_s, "reference_s": ref_s}
    result["pass"] = bool(result["value_error"] <= tol_value and result["grad_error"] <= tol_grad and repeatable)
    return result


def markdown(results: list[dict], device: str) -> str:
    lines = [f"# gpu_check: Triton kernels vs the CPU kernel; {device}", "",
             "| case | value error | gradient error | repeatable | GPU fwd+bwd s (first call compiles) | "
             "reference s | pass |", "|---|---:|---:|---|---:|---:|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | - | - | - | - | - | FAILED: {r['error']} |")
            continue
        lines.append(f"| {r['case']} | {r['value_error']:.2e} | {r['grad_error']:.2e} | {r['repeatable']} | "
                     f"{r['gpu_s']:.3f} | {r['reference_s']:.2f} | {'yes' if r['pass'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for gpu_check.md / .json")
    parser.add_argument("--quick", action="store_true", help="only the small cases (all relaxations and dtypes)")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cpu: a dry run of this script under TRITON_INTERPRET=1")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print("gpu_check.py needs a CUDA GPU (or --device cpu under TRITON_INTERPRET=1)", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_properties(0).name if DEVICE == "cuda" else "CPU (Triton interpreter)"
    device = f"{name}, torch {torch.__version__}"
    results: list[dict] = []
    specs = cases(args.quick)
    for seed, case in enumerate(tqdm(specs, desc="gpu_check")):
        try:
            results.append(run_case(case, seed))
        except Exception as err:  # noqa: BLE001 - report every case, then fail
            results.append({"case": case.name, "error": f"{type(err).__name__}: {str(err)[:300]}", "pass": False})
        if DEVICE == "cuda":
            torch.cuda.empty_cache()
        print(results[-1], flush=True)
        if args.out is not None:  # after every case, so a run cut short still leaves its results
            atomic_write_text(args.out / "gpu_check.md", markdown(results, device))
            write_json(args.out / "gpu_check.json", {"device": device, "cases": [
                {**r, "spec": asdict(c) | {"dtype": str(c.dtype)}} for r, c in zip(results, specs)]})
    print(markdown(results, device))
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
