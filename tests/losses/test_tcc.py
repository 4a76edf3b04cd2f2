"""TCC equals its paper's equations (frame-by-frame reference in tests/_helpers/loss_reference.py)."""
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.losses import TCCLoss
from tests._helpers import loss_reference as ref


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("loss_type", ["classification", "regression_mse", "regression_mse_var"])
@pytest.mark.parametrize("similarity", ["l2", "cosine"])
def test_matches_paper_equations_on_random_inputs(loss_type, similarity):
    embs = randn(3, 7, 5, seed=1).requires_grad_(True)
    value = TCCLoss(loss_type=loss_type, similarity=similarity)(embs)
    expected = ref.tcc_loss(list(embs), loss_type=loss_type, similarity=similarity)
    (grad,) = torch.autograd.grad(value, embs)
    (ref_grad,) = torch.autograd.grad(expected, embs)
    assert value.item() == pytest.approx(expected.item(), rel=1e-10)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-8, atol=1e-12)


def test_variable_lengths_match_unpadded_reference():
    lengths = [7, 5, 6]
    embs = randn(3, 7, 4, seed=2)
    value = TCCLoss()(embs, torch.tensor(lengths))
    expected = ref.tcc_loss([e[:n] for e, n in zip(embs, lengths)])
    assert float(value) == pytest.approx(float(expected), rel=1e-10)


def test_steps_give_the_regression_times():
    """With ``steps`` the regression target is the source frame index over the source length (TCC's
    normalize_indices), the video length given as ``seq_lens``."""
    embs = randn(2, 6, 4, seed=3)
    steps = torch.tensor([[0, 3, 4, 9, 12, 20], [1, 2, 5, 6, 7, 30]])
    seq_lens = torch.tensor([25, 40])
    value = TCCLoss()(embs, steps=steps, seq_lens=seq_lens)
    times = [steps[b].double() / seq_lens[b] for b in range(2)]
    assert float(value) == pytest.approx(float(ref.tcc_loss(list(embs), times=times)), rel=1e-10)
    default_scale = TCCLoss()(embs, steps=steps)            # scale: largest step + 1
    times = [steps[b].double() / (steps[b].max() + 1) for b in range(2)]
    assert float(default_scale) == pytest.approx(float(ref.tcc_loss(list(embs), times=times)), rel=1e-10)


def test_huber_is_mse_for_small_errors():
    embs = randn(2, 5, 3, seed=4) * 0.01          # nearly uniform beta: errors stay below delta = 1
    huber = TCCLoss(loss_type="regression_huber", huber_delta=1.0)(embs)
    mse = TCCLoss(loss_type="regression_mse")(embs)
    assert float(huber) == pytest.approx(0.5 * float(mse), rel=1e-10)


@pytest.mark.parametrize("options", [dict(loss_type="mse"), dict(similarity="dot"), dict(temperature=0)])
def test_bad_options_raise(options):
    with pytest.raises(GtalignError):
        TCCLoss(**options)
