"""`gtalign.models.folded`: a frozen trunk with its BatchNorm folded gives the same maps as the trunk, without
changing it."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gtalign.errors import GtalignError
from gtalign.models.folded import FoldedTrunk, fold_batchnorm
from gtalign.models.trunks import build_trunk


def _with_random_statistics(trunk: nn.Module, seed: int) -> nn.Module:
    """Random BatchNorm statistics and affine parameters (the defaults, mean 0 and variance 1, would hide a wrong
    fold)."""
    g = torch.Generator().manual_seed(seed)
    for m in trunk.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.1)
            with torch.no_grad():
                m.weight.copy_(torch.randn(n, generator=g))
                m.bias.copy_(torch.randn(n, generator=g))
    return trunk.eval()


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18"])
def test_folded_maps_equal_the_trunks_and_the_trunk_is_unchanged(name):
    trunk, channels = build_trunk(name, None)
    trunk = _with_random_statistics(trunk, 0)
    before = {k: v.clone() for k, v in trunk.state_dict().items()}
    frames = torch.randn(3, 3, 64, 80, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = trunk(frames)
    folded = FoldedTrunk(trunk)
    maps = folded(frames)
    assert maps.shape == expected.shape == (3, channels, 4, 5)
    torch.testing.assert_close(maps, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
    assert all(torch.equal(v, before[k]) for k, v in trunk.state_dict().items())
    assert any(isinstance(m, nn.BatchNorm2d) for m in trunk.modules())
    assert not any(p.requires_grad for p in folded.net.parameters())


def test_every_batchnorm_of_mobilenet_v2_is_folded():
    trunk, _ = build_trunk("mobilenet_v2", None)
    folded = fold_batchnorm(trunk.eval())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in trunk.modules()) > 0
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())


def test_a_sequential_with_its_own_forward_is_left_alone():
    class Backwards(nn.Sequential):  # applies its children in reverse order: folding would be wrong
        def forward(self, x):
            for m in reversed(self):
                x = m(x)
            return x

    net = Backwards(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)).eval()
    folded = fold_batchnorm(net)
    assert isinstance(folded[1], nn.BatchNorm2d)
    x = torch.randn(2, 3, 4, 4)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x))


def test_frames_of_the_wrong_shape_are_named():
    trunk, _ = build_trunk("mobilenet_v2", None)
    with pytest.raises(GtalignError, match=r"frames must have shape \(N, 3, H, W\)"):
        FoldedTrunk(trunk.eval())(torch.zeros(2, 1, 32, 32))
