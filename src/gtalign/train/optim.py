"""Optimizer and learning-rate schedule from the `optim` config section.

The L2 penalty `l2_weight * sum(w^2)` of the embedder's weights (docs/method.md Sec. 5, as in TCC) is applied as
`weight_decay = 2 * l2_weight` on those weights (its gradient); BatchNorm parameters and biases are not penalised.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from gtalign.errors import GtalignError
from gtalign.registry import choices
from gtalign.train.config import OptimConfig

OptimizerName = Literal["adam", "adamw", "sgd"]
OPTIMIZERS: tuple[str, ...] = choices(OptimizerName)
Schedule = Literal["constant", "cosine", "step"]
SCHEDULES: tuple[str, ...] = choices(Schedule)


def parameter_groups(embedder: nn.Module, extra: list[nn.Module], l2_weight: float) -> list[dict]:
    """Trainable parameters: the weights (matrices/kernels) of the embedder's heads (the context embedder and a
    temporal head) with the L2 penalty, the rest without."""
    decay: list[nn.Parameter] = []
    plain: list[nn.Parameter] = []
    for name, p in embedder.named_parameters():
        if p.requires_grad:
            (decay if name.startswith(("head.", "temporal.")) and p.dim() > 1 else plain).append(p)
    plain += [p for module in extra for p in module.parameters() if p.requires_grad]
    return [{"params": decay, "weight_decay": 2.0 * l2_weight}, {"params": plain, "weight_decay": 0.0}]


def build_optimizer(groups: list[dict], cfg: OptimConfig) -> torch.optim.Optimizer:
    if cfg.name == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr)
    if cfg.name == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    if cfg.name == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
    raise GtalignError(f"optim.name must be one of {OPTIMIZERS}, got {cfg.name!r}")


def lr_factor(step: int, cfg: OptimConfig, max_steps: int) -> float:
    """The multiplier of `optim.lr` at `step` (0-based): linear warmup, then the schedule."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return 1.0
    if cfg.schedule == "cosine":
        progress = (step - cfg.warmup_steps) / max(1, max_steps - cfg.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    if cfg.schedule == "step":
        return cfg.gamma ** (step // cfg.step_size)
    raise GtalignError(f"optim.schedule must be one of {SCHEDULES}, got {cfg.schedule!r}")


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: OptimConfig, max_steps: int
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    lr_factor(0, cfg, max_steps)  # reject an unknown schedule now
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, cfg, max_steps))
