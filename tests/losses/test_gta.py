"""GTA equals the published implementation (cell-by-cell reference in tests/_helpers/loss_reference.py)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gtalign.losses import GTALoss, create
from tests._helpers import loss_reference as ref


def unit(shape, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1).to(dtype)


def value_and_grad(fn, embs):
    leaf = embs.detach().clone().requires_grad_(True)
    value = fn(leaf)
    (grad,) = torch.autograd.grad(value, leaf)
    return value.detach(), grad


def assert_close_rel(actual, expected, rtol):
    """Relative agreement: |a - e| <= rtol * max|e| elementwise (gradients have entries near 0)."""
    actual, expected = actual.double(), expected.double()
    scale = expected.abs().max()
    assert float((actual - expected).abs().max()) <= rtol * float(scale), (actual, expected)


ANCHOR = [(0, 1), (0, 2), (0, 3)]


@pytest.mark.parametrize("relaxation", ["smoothmin", "min_gamma", "hard"])
def test_value_and_gradient_match_published_code(relaxation):
    embs = unit((4, 20, 128), seed=0)
    loss = create("gta", relaxation=relaxation)
    value, grad = value_and_grad(loss, embs)
    ref_value, ref_grad = value_and_grad(
        lambda e: ref.gta_loss(list(e), ANCHOR, relaxation=relaxation), embs.double())
    assert_close_rel(value, ref_value, 1e-5)
    assert_close_rel(grad, ref_grad, 1e-5)


def test_float64_matches_to_rounding():
    embs = unit((3, 12, 16), seed=1, dtype=torch.float64)
    value, grad = value_and_grad(GTALoss(), embs)
    ref_value, ref_grad = value_and_grad(lambda e: ref.gta_loss(list(e), [(0, 1), (0, 2)]), embs)
    assert_close_rel(value, ref_value, 1e-9)
    assert_close_rel(grad, ref_grad, 1e-9)


@pytest.mark.parametrize("options,pairs", [
    (dict(cycle_logits="normalized"), ANCHOR),
    (dict(pairing="all"), [(i, j) for i in range(4) for j in range(4) if i != j]),
    (dict(cycle=False), ANCHOR),
    (dict(gamma_f=0.3, gamma_s=0.05), ANCHOR),
])
def test_options_match_reference(options, pairs):
    embs = unit((4, 9, 8), seed=2, dtype=torch.float64)
    ref_options = {k: v for k, v in options.items() if k != "pairing"}
    value, grad = value_and_grad(GTALoss(**options), embs)
    ref_value, ref_grad = value_and_grad(lambda e: ref.gta_loss(list(e), pairs, **ref_options), embs)
    assert_close_rel(value, ref_value, 1e-9)
    assert_close_rel(grad, ref_grad, 1e-9)


@pytest.mark.parametrize("pairing", ["anchor", "all"])
def test_variable_lengths_match_reference_on_unpadded_videos(pairing):
    lengths = [10, 7, 9]
    embs = unit((3, 10, 8), seed=3, dtype=torch.float64)
    pairs = [(0, 1), (0, 2)] if pairing == "anchor" else [(i, j) for i in range(3) for j in range(3) if i != j]
    loss = GTALoss(pairing=pairing)
    value, grad = value_and_grad(lambda e: loss(e, torch.tensor(lengths)), embs)
    ref_value, ref_grad = value_and_grad(
        lambda e: ref.gta_loss([v[:n] for v, n in zip(e, lengths)], pairs), embs)
    assert_close_rel(value, ref_value, 1e-9)
    assert_close_rel(grad, ref_grad, 1e-9)
    for b, n in enumerate(lengths):          # padded frames get no gradient
        assert float(grad[b, n:].abs().sum()) == 0.0


@pytest.mark.parametrize("relaxation,expected", [("smoothmin", 531.0542), ("min_gamma", 531.0540),
                                                 ("hard", 531.0540)])
def test_alignment_score_reproduces_published_numbers(relaxation, expected):
    """docs/method.md Sec. 4: published R[N, M] for numpy seed 0, X = rand(20, 128), Y = rand(30, 128)."""
    np.random.seed(0)
    x = np.random.rand(20, 128).astype(np.float32)
    y = np.random.rand(30, 128).astype(np.float32)
    embs = torch.zeros(2, 30, 128)
    embs[0, :20], embs[1] = torch.from_numpy(x), torch.from_numpy(y)
    score = GTALoss(relaxation=relaxation, cycle=False)(embs, torch.tensor([20, 30]))
    assert float(score) == pytest.approx(expected, abs=2e-4)


def test_perfect_alignment_has_lower_cycle_loss_than_reversed():
    embs = unit((2, 12, 16), seed=4)
    aligned = torch.stack([embs[0], embs[0]])
    reversed_ = torch.stack([embs[0], embs[0].flip(0)])
    loss = GTALoss()
    assert float(loss(aligned)) < float(loss(reversed_))
