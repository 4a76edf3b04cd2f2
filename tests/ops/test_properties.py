"""Hypothesis: smoothDTW values and gradients stay finite over the whole range of inputs we support."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gtalign.ops import smooth_dtw_table

BOUND = 1e4


@st.composite
def dtw_inputs(draw):
    b = draw(st.integers(1, 3))
    n, m = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 100.0, BOUND]))
    gen = torch.Generator().manual_seed(seed)
    cost = (torch.rand(b, n, m, generator=gen, dtype=torch.float64) * 2 - 1) * scale
    if draw(st.booleans()):  # costs of a real contrastive loss are >= 0
        cost = cost.abs()
    len_x = torch.randint(1, n + 1, (b,), generator=gen)
    len_y = torch.randint(1, m + 1, (b,), generator=gen)
    gamma = draw(st.floats(1e-4, 10.0))
    return cost, (len_x, len_y), gamma


@settings(max_examples=60, deadline=None)
@given(case=dtw_inputs(), relaxation=st.sampled_from(["smoothmin", "min_gamma", "hard"]),
       dtype=st.sampled_from([torch.float32, torch.float64]), backend=st.sampled_from(["numba", "torch"]))
def test_values_and_gradients_are_finite(case, relaxation, dtype, backend):
    cost, lengths, gamma = case
    leaf = cost.to(dtype).requires_grad_(True)
    table = smooth_dtw_table(leaf, gamma, relaxation, lengths=lengths, backend=backend)
    inner = table[:, 1:, 1:]
    valid = torch.isfinite(inner)
    for k in range(cost.shape[0]):  # exactly the cells inside each pair's lengths are finite
        lx, ly = int(lengths[0][k]), int(lengths[1][k])
        assert bool(valid[k, :lx, :ly].all()) and int(valid[k].sum()) == lx * ly
    # GTA-style use of the whole table: softmax over the rows of -R, padded cells masked out
    finite = torch.where(valid, inner, torch.zeros_like(inner))
    probs = torch.softmax(-torch.where(valid, inner, torch.full_like(inner, torch.finfo(dtype).max)), dim=1)
    loss = (probs * finite).sum() + finite.sum()
    loss.backward()
    assert bool(torch.isfinite(leaf.grad).all())
