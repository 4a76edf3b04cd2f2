"""The Triton smoothDTW kernels, run on the CPU under Triton's interpreter, against the CPU backends.

Triton must be imported with TRITON_INTERPRET=1 already set (its own library functions are decorated at import),
so test_triton_dtw.py runs this file in a separate process; run alone, it is skipped unless the variable is set.

The interpreter runs the programs of a grid one after another, so these tests check the kernels' arithmetic,
indexing, masking and chunking, not the GPU's memory ordering between threads (benchmarks/gpu_check.sh does
that on a GPU). Sizes are tiny because the interpreter executes every Triton operation in numpy; ``block=2``
or ``4`` makes every diagonal span several chunks, the path long sequences take on a GPU.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.ops import contrastive_cost, dtw_torch
from gtalign.ops.dtw import _SmoothDTW

pytest.importorskip("triton", reason="triton is not installed, so the Triton DTW kernels cannot be run")
if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("runs in its own process under TRITON_INTERPRET=1, started by test_triton_dtw.py",
                allow_module_level=True)

RELAXATIONS = ["smoothmin", "min_gamma", "hard"]


@pytest.fixture(scope="module")
def interpreted():
    """gtalign.ops.dtw_triton, its kernels decorated under TRITON_INTERPRET=1 (set for this whole process)."""
    from gtalign.ops import dtw_triton

    return dtw_triton


def padded_case(seed: int, dtype: torch.dtype, b: int = 3, n: int = 7, m: int = 5, scale: float = 3.0):
    """``cost (B, N, M)`` and lengths with a full pair, a padded one and a 1-row one."""
    gen = torch.Generator().manual_seed(seed)
    cost = torch.rand(b, n, m, generator=gen, dtype=dtype) * scale
    len_x = torch.tensor([n, 3, 1][:b])
    len_y = torch.tensor([m, m, 2][:b])
    return cost, len_x, len_y


def assert_same_output(out: torch.Tensor, ref: torch.Tensor, rtol: float, atol: float) -> None:
    """Equal values, with +inf exactly where the reference has it (border and padding of a table)."""
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert torch.equal(torch.isposinf(out), torch.isposinf(ref))
    finite = torch.isfinite(ref)
    assert bool(torch.isfinite(out[finite]).all())
    torch.testing.assert_close(out[finite], ref[finite], rtol=rtol, atol=atol)


TOLERANCE = {torch.float64: (1e-12, 1e-12), torch.float32: (2e-6, 2e-6)}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("output", ["score", "row", "table"])
@pytest.mark.parametrize("relaxation", RELAXATIONS)
def test_forward_and_backward_match_torch_backend(interpreted, relaxation, output, dtype):
    cost, len_x, len_y = padded_case(0, dtype)
    out, state = interpreted.forward(cost, len_x, len_y, 0.1, relaxation, output, block=2)
    ref, ref_state = dtw_torch.forward(cost, len_x, len_y, 0.1, relaxation, output)
    rtol, atol = TOLERANCE[dtype]
    assert_same_output(out, ref, rtol, atol)
    # incoming gradients everywhere, also on the border and padded cells (which must be ignored)
    grad = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    grad_cost, _ = interpreted.backward(state, grad)
    torch.testing.assert_close(grad_cost, dtw_torch.backward(ref_state, grad)[0], rtol=10 * rtol, atol=10 * atol)
    padded = torch.arange(7)[None, :, None] >= len_x[:, None, None]
    assert bool((grad_cost[padded.expand_as(grad_cost)] == 0).all())


@pytest.mark.parametrize("n, m, block", [(13, 10, 4), (7, 12, 4), (1, 6, 32), (6, 1, 32), (1, 1, 32)])
def test_any_shape_and_block_match_torch_fallback(interpreted, n, m, block):
    """Diagonals longer than the block (several chunks per diagonal) and degenerate 1-row / 1-column tables."""
    cost = torch.rand(2, n, m, generator=torch.Generator().manual_seed(n * m), dtype=torch.float64)
    len_x, len_y = torch.tensor([n, max(1, n - 3)]), torch.tensor([max(1, m - 2), m])
    for output in ("score", "row", "table"):
        out, state = interpreted.forward(cost, len_x, len_y, 0.3, "smoothmin", output, block=block)
        ref, ref_state = dtw_torch.forward(cost, len_x, len_y, 0.3, "smoothmin", output)
        assert_same_output(out, ref, 1e-12, 1e-12)
        grad = torch.rand(out.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        torch.testing.assert_close(interpreted.backward(state, grad)[0], dtw_torch.backward(ref_state, grad)[0],
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("relaxation", RELAXATIONS)
@pytest.mark.parametrize("output", ["score", "row", "table"])
def test_a_given_first_row_matches_torch_backend_with_its_gradient(interpreted, output, relaxation):
    """Row 0 given (finite values and +inf, padded pairs, diagonals over several blocks): values and gradients to
    the cost and to the row equal the torch backend's."""
    cost, len_x, len_y = padded_case(3, torch.float64)
    gen = torch.Generator().manual_seed(4)
    top = torch.rand(3, 6, generator=gen, dtype=torch.float64) * 2
    top[0, 0], top[1, 3], top[2, 0] = float("inf"), float("inf"), float("inf")
    out, state = interpreted.forward(cost, len_x, len_y, 0.2, relaxation, output, top, block=2)
    ref, ref_state = dtw_torch.forward(cost, len_x, len_y, 0.2, relaxation, output, top)
    assert_same_output(out, ref, 1e-12, 1e-12)
    grad = torch.rand(out.shape, generator=gen, dtype=torch.float64)
    (grad_cost, grad_top), (ref_cost, ref_top) = interpreted.backward(state, grad), dtw_torch.backward(ref_state, grad)
    torch.testing.assert_close(grad_cost, ref_cost, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_top, ref_top, rtol=1e-12, atol=1e-12)
    assert float(grad_top.abs().sum()) > 0


@pytest.mark.parametrize("relaxation, published", [("smoothmin", 531.0542), ("min_gamma", 531.0540),
                                                   ("hard", 531.0540)])
def test_published_demo_values(interpreted, relaxation, published):
    """docs/method.md Sec. 4: the published implementation's scores on seeded uniform inputs, in float32."""
    np.random.seed(0)
    x = torch.from_numpy(np.random.rand(20, 128).astype(np.float32))
    y = torch.from_numpy(np.random.rand(30, 128).astype(np.float32))
    cost = contrastive_cost(x, y, temperature=0.1)[None]
    score, _ = interpreted.forward(cost, torch.tensor([20]), torch.tensor([30]), 0.1, relaxation, "score")
    assert float(score[0]) == pytest.approx(published, abs=1.5e-4)


def test_large_costs_and_tiny_gamma_stay_exact_in_float32(interpreted):
    """Table values around 1e4 with gamma 1e-3: stored derivatives keep float32 gradients close to float64."""
    cost64 = 500 + torch.rand(2, 9, 8, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    len_x, len_y = torch.tensor([9, 9]), torch.tensor([8, 8])
    ref, ref_state = dtw_torch.forward(cost64, len_x, len_y, 1e-3, "smoothmin", "score")
    out, state = interpreted.forward(cost64.float(), len_x, len_y, 1e-3, "smoothmin", "score")
    torch.testing.assert_close(out.double(), ref, rtol=1e-6, atol=0)
    grad, _ = interpreted.backward(state, torch.ones(2))
    assert bool(torch.isfinite(grad).all())
    torch.testing.assert_close(grad.double(), dtw_torch.backward(ref_state, torch.ones(2, dtype=torch.float64))[0],
                               rtol=1e-4, atol=1e-5)


def test_autograd_wrapper_gradcheck_from_every_table_cell(interpreted):
    """Through the same autograd Function as gtalign.ops.dtw: finite differences of a weighted sum of the whole
    table (the GTA cycle loss needs every cell), border and padding excluded."""
    cost = (torch.rand(2, 3, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 2
            ).requires_grad_(True)
    len_x, len_y = torch.tensor([3, 2]), torch.tensor([3, 2])
    weights = torch.rand(2, 4, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

    def weighted_table(c: torch.Tensor) -> torch.Tensor:
        r = _SmoothDTW.apply(c, len_x, len_y, 0.5, "smoothmin", interpreted, "table", None)
        return (torch.where(torch.isfinite(r), r, torch.zeros_like(r)) * weights).sum()

    assert torch.autograd.gradcheck(weighted_table, (cost,), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_block_must_be_a_power_of_two(interpreted):
    cost, len_x, len_y = padded_case(0, torch.float32)
    with pytest.raises(GtalignError, match="block must be a power of two, got 3"):
        interpreted.forward(cost, len_x, len_y, 0.1, "smoothmin", "score", block=3)
