"""smoothDTW against the published demo values and a plain per-cell reference loop, both backends."""
import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.ops import contrastive_cost, smooth_dtw, smooth_dtw_last_row, smooth_dtw_table, soft_alignment
from tests._helpers.dtw_reference import reference_table

BACKENDS = ["numba", "torch"]
RELAXATIONS = ["smoothmin", "min_gamma", "hard"]


def demo_cost(dtype=torch.float32) -> torch.Tensor:
    """The published smoothDTW_demo.py input: raw (not normalised) uniform vectors, cosine = dot product,
    column-wise contrastive cost with temperature gamma_f = 0.1."""
    np.random.seed(0)
    x = torch.from_numpy(np.random.rand(20, 128).astype(np.float32)).to(dtype)
    y = torch.from_numpy(np.random.rand(30, 128).astype(np.float32)).to(dtype)
    return contrastive_cost(x, y, temperature=0.1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation, published", [("smoothmin", 531.0542), ("min_gamma", 531.0540),
                                                   ("hard", 531.0540)])
def test_published_demo_values(backend, relaxation, published):
    score = smooth_dtw(demo_cost(), gamma=0.1, relaxation=relaxation, backend=backend)
    assert score.dtype == torch.float32 and score.shape == ()
    assert float(score) == pytest.approx(published, abs=1.5e-4)


def random_case(seed, b=3, n=6, m=8, dtype=torch.float64, scale=3.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(b, n, m, generator=gen, dtype=dtype) * scale


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", RELAXATIONS)
def test_table_values_and_gradients_match_reference_loop(backend, relaxation):
    cost = random_case(1)
    weights = torch.randn(3, 7, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    leaf = cost.clone().requires_grad_(True)
    table = smooth_dtw_table(leaf, 0.3, relaxation, backend=backend)
    (table[:, 1:, 1:] * weights[:, 1:, 1:]).sum().backward()
    for b in range(3):
        ref_leaf = cost[b].clone().requires_grad_(True)
        ref = reference_table(ref_leaf, 0.3, relaxation)
        (ref[1:, 1:] * weights[b, 1:, 1:]).sum().backward()
        torch.testing.assert_close(table[b].detach(), ref.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(leaf.grad[b], ref_leaf.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", RELAXATIONS)
def test_score_gradient_is_soft_alignment_and_matches_reference(backend, relaxation):
    cost = random_case(3, b=2, n=5, m=4)
    align = soft_alignment(cost, 0.2, relaxation, backend=backend)
    for b in range(2):
        ref_leaf = cost[b].clone().requires_grad_(True)
        ref = reference_table(ref_leaf, 0.2, relaxation)
        ref[-1, -1].backward()
        torch.testing.assert_close(align[b], ref_leaf.grad, rtol=1e-10, atol=1e-12)
        value = float(smooth_dtw(cost[b], 0.2, relaxation, backend=backend))
        assert value == pytest.approx(float(ref[-1, -1].detach()), rel=1e-12)
    if relaxation == "min_gamma":  # soft-DTW: a distribution over paths, entries in [0, 1]
        assert bool(((align >= 0) & (align <= 1 + 1e-12)).all())
    if relaxation == "hard":  # 0/1 indicator of one monotone path from (0, 0) to (N-1, M-1)
        assert set(align.unique().tolist()) <= {0.0, 1.0} and bool((align[:, 0, 0] == 1).all())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma"])
def test_gradcheck_float64(backend, relaxation):
    cost = random_case(4, b=2, n=4, m=5).requires_grad_(True)
    weights = torch.randn(2, 5, 6, dtype=torch.float64)
    fast = backend == "torch"  # one Python step per diagonal: a random projection keeps the test quick
    assert torch.autograd.gradcheck(lambda c: smooth_dtw(c, 0.5, relaxation, backend=backend), (cost,),
                                    fast_mode=fast)
    assert torch.autograd.gradcheck(
        lambda c: (smooth_dtw_table(c, 0.5, relaxation, backend=backend)[:, 1:, 1:] * weights[:, 1:, 1:]).sum(),
        (cost,), fast_mode=fast)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", RELAXATIONS)
def test_padded_batch_equals_unpadded_pairs(backend, relaxation):
    gen = torch.Generator().manual_seed(5)
    b, n, m = 11, 9, 7  # more pairs than one SIMD chunk of the numba kernel
    cost = torch.rand(b, n, m, generator=gen, dtype=torch.float64) * 2
    len_x = torch.randint(1, n + 1, (b,), generator=gen)
    len_y = torch.randint(1, m + 1, (b,), generator=gen)
    leaf = cost.clone().requires_grad_(True)
    table = smooth_dtw_table(leaf, 0.2, relaxation, lengths=(len_x, len_y), backend=backend)
    scores = smooth_dtw(leaf, 0.2, relaxation, lengths=(len_x, len_y), backend=backend)
    weights = torch.randn(b, n + 1, m + 1, generator=gen, dtype=torch.float64)
    grad_table, = torch.autograd.grad((table.nan_to_num(posinf=0.0) * weights).sum(), leaf)
    grad_score, = torch.autograd.grad(scores.sum(), leaf)
    for k in range(b):
        lx, ly = int(len_x[k]), int(len_y[k])
        sub = cost[k, :lx, :ly].clone().requires_grad_(True)
        ref = smooth_dtw_table(sub, 0.2, relaxation, backend=backend)
        torch.testing.assert_close(table[k, :lx + 1, :ly + 1].detach(), ref.detach())
        assert bool(torch.isinf(table[k, lx + 1:]).all()) and bool(torch.isinf(table[k, :, ly + 1:]).all())
        torch.testing.assert_close(scores[k].detach(), ref[-1, -1].detach())
        g_table, = torch.autograd.grad((ref[1:, 1:] * weights[k, 1:lx + 1, 1:ly + 1]).sum(), sub, retain_graph=True)
        g_score, = torch.autograd.grad(ref[-1, -1], sub)
        torch.testing.assert_close(grad_table[k, :lx, :ly], g_table)
        torch.testing.assert_close(grad_score[k, :lx, :ly], g_score)
        assert float(grad_table[k, lx:].abs().sum() + grad_table[k, :, ly:].abs().sum()) == 0.0
        assert float(grad_score[k, lx:].abs().sum() + grad_score[k, :, ly:].abs().sum()) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", RELAXATIONS)
def test_last_row_equals_the_tables_last_row_with_its_gradient(backend, relaxation):
    """The last row R[len_x, 1..M] of padded pairs: its values are the table's, +inf past len_y, and a gradient on
    it (also on the +inf cells, which is ignored) reaches the cost as it does through the table."""
    gen = torch.Generator().manual_seed(8)
    b, n, m = 11, 6, 9
    cost = torch.rand(b, n, m, generator=gen, dtype=torch.float64) * 2
    lengths = (torch.randint(1, n + 1, (b,), generator=gen), torch.randint(1, m + 1, (b,), generator=gen))
    leaf = cost.clone().requires_grad_(True)
    row = smooth_dtw_last_row(leaf, 0.2, relaxation, lengths=lengths, backend=backend)
    table = smooth_dtw_table(leaf, 0.2, relaxation, lengths=lengths, backend=backend)
    expected = table[torch.arange(b), lengths[0], 1:]
    assert row.shape == (b, m)
    torch.testing.assert_close(row.detach(), expected.detach())
    past = torch.arange(1, m + 1)[None, :] > lengths[1][:, None]
    assert bool(torch.isinf(row[past]).all()) and bool(torch.isfinite(row[~past]).all())
    weights = torch.randn(b, m, generator=gen, dtype=torch.float64)
    grad_row, = torch.autograd.grad(row, leaf, weights)
    grad_table, = torch.autograd.grad(expected, leaf, weights.masked_fill(past, 0.0))
    torch.testing.assert_close(grad_row, grad_table)
    assert float(grad_row.abs().sum()) > 0


def random_first_row(seed: int, b: int, m: int) -> torch.Tensor:
    """``(B, M+1)`` row 0 of mixed finite values and +inf (at least one finite entry a pair)."""
    gen = torch.Generator().manual_seed(seed)
    row = torch.rand(b, m + 1, generator=gen, dtype=torch.float64) * 3
    row[torch.rand(b, m + 1, generator=gen) < 0.3] = float("inf")
    row[:, 1] = torch.rand(b, generator=gen, dtype=torch.float64)
    return row


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("relaxation", RELAXATIONS)
def test_given_first_row_matches_the_reference_loop_with_gradients(backend, relaxation):
    """The table's row 0 given (finite values and +inf): the whole table, and gradients to the cost and to the
    row, equal a float64 cell loop started from that row; the last row and the score are its cells."""
    cost = random_case(4, b=3, n=5, m=6)
    first = random_first_row(5, 3, 6)
    leaf, row_leaf = cost.clone().requires_grad_(True), first.clone().requires_grad_(True)
    table = smooth_dtw_table(leaf, 0.3, relaxation, backend=backend, first_row=row_leaf)
    weights = torch.randn(3, 6, 7, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    grads = torch.autograd.grad((table[:, 1:, 1:] * weights[:, 1:, 1:]).sum(), (leaf, row_leaf))
    for b in range(3):
        ref_leaf, ref_row = cost[b].clone().requires_grad_(True), first[b].clone().requires_grad_(True)
        ref = reference_table(ref_leaf, 0.3, relaxation, first_row=ref_row)
        torch.testing.assert_close(table[b].detach(), ref.detach(), rtol=1e-12, atol=1e-12)
        ref_grads = torch.autograd.grad((ref[1:, 1:] * weights[b, 1:, 1:]).sum(), (ref_leaf, ref_row),
                                        allow_unused=True, materialize_grads=True)
        torch.testing.assert_close(grads[0][b], ref_grads[0], rtol=1e-10, atol=1e-10)
        finite = torch.isfinite(first[b])
        torch.testing.assert_close(grads[1][b][finite], ref_grads[1][finite], rtol=1e-10, atol=1e-10)
        assert float(grads[1][b][~finite].abs().sum()) == 0.0
    row = smooth_dtw_last_row(cost, 0.3, relaxation, backend=backend, first_row=first)
    torch.testing.assert_close(row, table[:, -1, 1:].detach())
    torch.testing.assert_close(smooth_dtw(cost, 0.3, relaxation, backend=backend, first_row=first),
                               table[:, -1, -1].detach())


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_row_gradcheck_float64_with_padding(backend):
    cost = random_case(7, b=2, n=4, m=5).requires_grad_(True)
    first = (torch.rand(2, 6, generator=torch.Generator().manual_seed(8), dtype=torch.float64) + 0.5)
    first = first.requires_grad_(True)
    lengths = (torch.tensor([4, 2]), torch.tensor([5, 3]))
    assert torch.autograd.gradcheck(
        lambda c, r: smooth_dtw_last_row(c, 0.5, lengths=lengths, backend=backend, first_row=r).nan_to_num(
            posinf=0.0).sum(), (cost, first))


def test_first_row_plain_border_equals_no_first_row_and_bad_rows_are_named():
    cost = random_case(9)
    plain = torch.full((3, 9), float("inf"), dtype=torch.float64)
    plain[:, 0] = 0
    for backend in BACKENDS:
        torch.testing.assert_close(smooth_dtw(cost, 0.2, backend=backend, first_row=plain),
                                   smooth_dtw(cost, 0.2, backend=backend), rtol=0, atol=0)
    with pytest.raises(GtalignError, match=r"first_row must be a floating-point torch.Tensor of shape \(3, 9\)"):
        smooth_dtw(cost, first_row=torch.zeros(3, 8, dtype=torch.float64))
    with pytest.raises(GtalignError, match="NaN or -inf"):
        smooth_dtw(cost, first_row=torch.full((3, 9), float("-inf"), dtype=torch.float64))


@pytest.mark.parametrize("backend", BACKENDS)
def test_last_row_gradcheck_float64(backend):
    cost = random_case(3, b=2, n=4, m=5).requires_grad_(True)
    weights = torch.randn(2, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda c: (smooth_dtw_last_row(c, 0.5, backend=backend) * weights).sum(), (cost,))


def test_table_gradient_ignores_border_and_padding_even_when_nan():
    cost = random_case(6, b=2, n=4, m=3).requires_grad_(True)
    lengths = (torch.tensor([4, 2]), torch.tensor([3, 3]))
    for backend in BACKENDS:
        table = smooth_dtw_table(cost, 0.1, lengths=lengths, backend=backend)
        grad = torch.full_like(table, float("nan"))
        grad[0, 1:, 1:] = 1.0
        grad[1, 1:3, 1:] = 1.0
        g, = torch.autograd.grad(table, cost, grad)
        assert bool(torch.isfinite(g).all()) and float(g[1, 2:].abs().sum()) == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_backends_agree_on_larger_float_inputs(dtype):
    cost = random_case(7, b=37, n=71, m=45, dtype=dtype, scale=50.0)  # several chunks, two threads
    results = {}
    for backend in BACKENDS:
        leaf = cost.clone().requires_grad_(True)
        table = smooth_dtw_table(leaf, 0.05, backend=backend)
        table[:, 1:, 1:].sum().backward()
        results[backend] = (table.detach(), leaf.grad)
    tol = dict(rtol=2e-6, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(results["numba"][0], results["torch"][0], **tol)
    torch.testing.assert_close(results["numba"][1], results["torch"][1], **tol)


def test_float32_gradients_exact_for_large_costs_and_tiny_gamma():
    cost64 = random_case(8, b=2, n=12, m=10, scale=1e4)
    for gamma in (0.1, 1e-3):
        ref = soft_alignment(cost64, gamma, backend="numba")
        for backend in BACKENDS:
            got = soft_alignment(cost64.float(), gamma, backend=backend).double()
            assert float((got - ref).abs().max()) < 1e-5


def test_half_precision_is_computed_in_float32():
    cost = random_case(9, b=2, n=5, m=5, dtype=torch.float32)
    half = smooth_dtw(cost.bfloat16(), 0.1)
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), smooth_dtw(cost.bfloat16().float(), 0.1), rtol=1e-2, atol=1e-2)


def test_unbatched_shapes_and_auto_backend():
    cost = random_case(10, b=1, n=4, m=6)[0]
    assert smooth_dtw(cost).shape == ()
    assert smooth_dtw_table(cost).shape == (5, 7)
    assert soft_alignment(cost).shape == (4, 6)
    torch.testing.assert_close(smooth_dtw(cost), smooth_dtw(cost, backend="torch"))
    table = smooth_dtw_table(cost)
    assert float(table[0, 0]) == 0.0 and bool(torch.isinf(table[0, 1:]).all()) and bool(torch.isinf(table[1:, 0]).all())


@pytest.mark.parametrize("call, match", [
    (lambda: smooth_dtw(torch.zeros(2, 3, 4, 5)), r"\(N, M\) or \(B, N, M\).*\(2, 3, 4, 5\)"),
    (lambda: smooth_dtw(torch.zeros(5)), r"\(N, M\) or \(B, N, M\)"),
    (lambda: smooth_dtw(torch.zeros(2, 0, 4)), "non-empty"),
    (lambda: smooth_dtw(torch.zeros(0, 3, 4)), "non-empty"),
    (lambda: smooth_dtw(torch.tensor([[0.0, float("nan")]])), "cost contains 1 NaN"),
    (lambda: smooth_dtw(torch.zeros(3, 4), gamma=-1.0), "gamma.*-1.0"),
    (lambda: smooth_dtw(torch.zeros(3, 4), relaxation="softmin"), "relaxation.*softmin"),
    (lambda: smooth_dtw(torch.zeros(3, 4), backend="cuda"), "backend.*cuda"),
    (lambda: smooth_dtw(torch.zeros(3, 4, dtype=torch.long)), "floating-point"),
    (lambda: smooth_dtw(torch.zeros(2, 3, 4), lengths=(torch.tensor([3, 3, 3]), torch.tensor([4, 4]))),
     r"len_x.*shape \(2,\)"),
    (lambda: smooth_dtw(torch.zeros(2, 3, 4), lengths=(torch.tensor([3, 3]), torch.tensor([4, 5]))),
     r"len_y must lie in 1..4.*\[4, 5\]"),
    (lambda: smooth_dtw(torch.zeros(2, 3, 4), lengths=(torch.tensor([0, 3]), torch.tensor([4, 4]))),
     r"len_x must lie in 1..3"),
    (lambda: smooth_dtw(torch.zeros(2, 3, 4), lengths=torch.tensor([3, 3])), "pair"),
    (lambda: smooth_dtw_table(torch.zeros(2, 3, 4), lengths=(torch.tensor([1.0, 2.0]), torch.tensor([4, 4]))),
     "integer"),
])
def test_bad_input_names_argument_and_value(call, match):
    with pytest.raises(GtalignError, match=match):
        call()


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 1, 5), (2, 6, 1), (1, 2, 2)])
def test_degenerate_shapes_match_reference(shape):
    cost = random_case(11, *shape)
    for backend in BACKENDS:
        leaf = cost.clone().requires_grad_(True)
        table = smooth_dtw_table(leaf, 0.2, backend=backend)
        table[:, 1:, 1:].sum().backward()
        for b in range(shape[0]):
            ref_leaf = cost[b].clone().requires_grad_(True)
            ref = reference_table(ref_leaf, 0.2, "smoothmin")
            ref[1:, 1:].sum().backward()
            torch.testing.assert_close(table[b].detach(), ref.detach())
            torch.testing.assert_close(leaf.grad[b], ref_leaf.grad)


def test_numba_kernel_threads_give_the_same_result():
    cost = random_case(12, b=40, n=90, m=70, dtype=torch.float32)
    threads = torch.get_num_threads()
    try:
        results = []
        for n_threads in (1, 2):
            torch.set_num_threads(n_threads)
            results.append(soft_alignment(cost, 0.1, backend="numba"))
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)
