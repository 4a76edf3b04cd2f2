"""Cost matrices against scipy references."""
import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from scipy.special import log_softmax

from gtalign.errors import GtalignError
from gtalign.ops import contrastive_cost, cosine_cost, sqeuclidean_cost


def pair(seed, b=2, n=5, m=7, d=4):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(b, n, d, generator=gen, dtype=torch.float64),
            torch.randn(b, m, d, generator=gen, dtype=torch.float64))


def test_contrastive_cost_is_columnwise_negative_log_softmax():
    x, y = pair(0)
    cost = contrastive_cost(x, y, temperature=0.3)
    for b in range(2):
        ref = -log_softmax(x[b].numpy() @ y[b].numpy().T / 0.3, axis=0)
        np.testing.assert_allclose(cost[b].numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(torch.exp(-cost).sum(1).numpy(), 1.0, rtol=1e-12)  # columns are distributions


def test_contrastive_cost_lengths_exclude_padded_frames_of_x():
    x, y = pair(1, b=3, n=6, m=5)
    len_x, len_y = torch.tensor([6, 2, 4]), torch.tensor([5, 5, 3])
    leaf = x.clone().requires_grad_(True)
    cost = contrastive_cost(leaf, y, 0.1, lengths=(len_x, len_y))
    cost.sum().backward()
    for b in range(3):
        n = int(len_x[b])
        torch.testing.assert_close(cost[b, :n], contrastive_cost(x[b, :n], y[b], 0.1))
        assert float(cost.detach()[b, n:].abs().sum()) == 0.0 and float(leaf.grad[b, n:].abs().sum()) == 0.0
    torch.testing.assert_close(contrastive_cost(x, y, 0.1, lengths=len_x), cost.detach())
    assert bool(torch.isfinite(leaf.grad).all())


def test_sqeuclidean_and_cosine_against_scipy():
    x, y = pair(2, b=1)
    np.testing.assert_allclose(sqeuclidean_cost(x, y)[0].numpy(), cdist(x[0], y[0], "sqeuclidean"), atol=1e-12)
    np.testing.assert_allclose(cosine_cost(x, y)[0].numpy(), cdist(x[0], y[0], "cosine"), atol=1e-12)
    assert sqeuclidean_cost(x[0], y[0]).shape == (5, 7)


def test_leading_dimensions_broadcast():
    x, y = pair(3, b=1, n=3, m=4)
    y = y.expand(5, 4, 4)
    assert contrastive_cost(x, y).shape == (5, 3, 4)


@pytest.mark.parametrize("call, match", [
    (lambda: contrastive_cost(torch.zeros(3), torch.zeros(3, 2)), r"x must have shape \(\.\.\., frames, D\)"),
    (lambda: contrastive_cost(torch.zeros(3, 2), torch.zeros(4, 5)), "same feature size.*\\(3, 2\\).*\\(4, 5\\)"),
    (lambda: contrastive_cost(torch.zeros(0, 2), torch.zeros(4, 2)), "at least one frame"),
    (lambda: contrastive_cost(torch.zeros(3, 2), torch.zeros(4, 2), temperature=0), "temperature"),
    (lambda: sqeuclidean_cost(torch.zeros(3, 2), torch.full((4, 2), float("nan"))), "y contains 8 NaN"),
    (lambda: cosine_cost(torch.zeros(2, 3, 2), torch.zeros(3, 4, 2)), "broadcast"),
    (lambda: contrastive_cost(torch.zeros(2, 3, 2), torch.zeros(2, 4, 2), lengths=torch.tensor([3, 4])),
     r"lengths of x must lie in 1..3"),
    (lambda: contrastive_cost(torch.zeros(2, 3, 2), torch.zeros(2, 4, 2), lengths=torch.tensor([3])), "lengths"),
])
def test_bad_input(call, match):
    with pytest.raises(GtalignError, match=match):
        call()
