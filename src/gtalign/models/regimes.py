"""Training regimes of the trunk (supplement Table 1, plus `frozen`).

- `scratch`: random initialisation, every parameter trained.
- `train_all`: pretrained initialisation, every parameter trained.
- `only_bn`: pretrained; of the trunk only the BatchNorm affine parameters and running statistics are trained.
- `frozen`: the trunk is fixed, its BatchNorm layers stay in eval mode (its features can then be cached).
The embedder on top of the trunk is trained in every regime.
"""
from __future__ import annotations

from typing import Literal

from torch import nn

from gtalign.errors import GtalignError
from gtalign.registry import check_choice, choices

Regime = Literal["scratch", "train_all", "only_bn", "frozen"]
REGIMES: tuple[str, ...] = choices(Regime)


def check_regime(regime: str, weights: object) -> None:
    """Reject unknown regimes and `scratch` with pretrained weights (scratch means random initialisation)."""
    check_choice("regime", regime, REGIMES)
    if regime == "scratch" and weights is not None:
        raise GtalignError(f"regime 'scratch' trains from random initialisation, but weights={weights!r} was given; "
                           "use regime=train_all or only_bn with pretrained weights, or weights=null")


def apply_regime(trunk: nn.Module, regime: str) -> None:
    """Set `requires_grad` on the trunk's parameters for `regime`."""
    for module in trunk.modules():
        is_bn = isinstance(module, nn.modules.batchnorm._BatchNorm)
        for p in module.parameters(recurse=False):
            p.requires_grad_(regime in ("scratch", "train_all") or (regime == "only_bn" and is_bn))
