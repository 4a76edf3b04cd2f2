"""Each alignment loss trains a small MLP embedder to align synthetic time-warped sequences.

Inputs are noisy random curves under random monotonic warps plus distractor dimensions of pure noise, so a
random embedder aligns poorly (nearest-neighbour Kendall's tau near 0.1); learning must raise it well above.
soft-DTW on squared Euclidean costs is left out: constant embeddings minimise it, and training collapses
towards them (docs/losses.md).
"""
import numpy as np
import pytest
import torch

from gtalign.losses import create
from tests._helpers.loss_data import Embedder, alignment_tau, random_curve, with_distractors

STEPS = {"gta": 60, "d3tw": 60, "tcc": 60, "tcn": 60}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_training_raises_alignment_tau(name):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    curve = random_curve(rng, 4)
    held_out = with_distractors(rng, curve, 6, 40)
    model = Embedder(held_out.shape[-1])
    loss = create(name, **({"seed": 0} if name == "d3tw" else {}))
    optimizer = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), lr=1e-2)
    with torch.no_grad():
        before = alignment_tau(model(held_out))
    for _ in range(STEPS[name]):
        batch = with_distractors(rng, curve, 4, 20)
        value = loss(model(batch), steps=torch.arange(20).repeat(4, 1) * 3)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    with torch.no_grad():
        after = alignment_tau(model(held_out))
    assert before < 0.25
    assert after > before + 0.3, (before, after)
