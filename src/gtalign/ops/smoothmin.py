"""Smooth minimum operators of the GTA supplement, Sec. 1.

- ``smooth_min(a; gamma) = sum_i a_i exp(-a_i/gamma) / sum_j exp(-a_j/gamma)``: softmax-weighted average,
  an UPPER bound on ``min(a)`` (GTA's relaxation, supplement eq. 1).
- ``min_gamma(a; gamma) = -gamma log sum_i exp(-a_i/gamma)``: log-sum-exp, a LOWER bound on ``min(a)``
  (soft-DTW / D3TW relaxation, supplement eq. 7).

Both are computed shifted by the minimum ``a_0 = min(a)`` (supplement eqs. 2 and 8), so they stay exact for
large entries and tiny gamma, and they accept ``+inf`` entries (weighted by exactly 0). ``gamma = 0`` gives the
hard minimum.

``softmin3`` is the three-way local step of the DTW recursion: it returns the value and its derivative with
respect to each of the three predecessors, which the DTW forward sweep stores for the analytic backward.
"""
from __future__ import annotations

import math
from typing import Literal

import torch

from gtalign.errors import GtalignError, describe
from gtalign.registry import check_choice, choices

#: The relaxations of the DTW minimum, by name.
Relaxation = Literal["smoothmin", "min_gamma", "hard"]
RELAXATIONS: tuple[str, ...] = choices(Relaxation)
#: The number each compiled kernel (numba, Triton) knows a relaxation by: its place in RELAXATIONS.
RELAXATION_CODES: dict[str, int] = {name: code for code, name in enumerate(RELAXATIONS)}


def check_gamma(gamma: float) -> float:
    """Return ``gamma`` as a float, or raise GtalignError unless it is a finite number >= 0."""
    try:
        value = float(gamma)
    except (TypeError, ValueError):
        raise GtalignError(f"gamma must be a number >= 0, got {describe(gamma)}") from None
    if not math.isfinite(value) or value < 0:
        raise GtalignError(f"gamma must be a finite number >= 0, got {value!r}")
    return value


def check_relaxation(relaxation: str) -> Relaxation:
    """Return ``relaxation`` or raise GtalignError unless it is one of RELAXATIONS."""
    return check_choice("relaxation", relaxation, RELAXATIONS)


def _shifted_logits(a: torch.Tensor, gamma: float, dim: int):
    """Common part of both smooth minima.

    Returns ``(a0, r, z, all_inf)``: the (detached) minimum along ``dim`` (0 where every entry is +inf),
    ``r = a - a0`` with +inf entries replaced by 0, the logits ``z = -r / gamma`` with -inf at +inf entries,
    and the mask of slices that are entirely +inf. All tensors are finite except ``z`` (at +inf entries).
    """
    if not isinstance(a, torch.Tensor) or not a.is_floating_point():
        raise GtalignError(f"a must be a floating-point torch.Tensor, got {describe(a)}")
    if a.numel() == 0 or a.shape[dim] == 0:
        raise GtalignError(f"a must have at least one entry along dim={dim}, got {describe(a)}")
    if bool(torch.isnan(a).any()) or bool(torch.isneginf(a).any()):
        raise GtalignError(f"a must hold finite values or +inf, got NaN or -inf in {describe(a)}")
    pos_inf = torch.isposinf(a)
    all_inf = pos_inf.all(dim, keepdim=True)
    # The minimum is detached: both operators are invariant to the shift, so its gradient is exactly 0.
    a0 = a.detach().amin(dim, keepdim=True).masked_fill(all_inf, 0.0)
    r = (a - a0).masked_fill(pos_inf, 0.0)
    z = (-r / gamma).masked_fill(pos_inf & ~all_inf, -math.inf)
    return a0, r, z, all_inf


def _soft_reduce(a: torch.Tensor, gamma: float, dim: int, excess) -> torch.Tensor:
    """``min(a) + excess(r, z)`` along ``dim`` (hard minimum at gamma = 0, +inf for all-+inf slices), where
    ``excess`` maps the shifted values ``r = a - min(a)`` and logits ``z = -r / gamma`` to the keepdim excess."""
    gamma = check_gamma(gamma)
    if gamma == 0:
        _shifted_logits(a, 1.0, dim)  # validation only
        return a.amin(dim)
    a0, r, z, all_inf = _shifted_logits(a, gamma, dim)
    return (a0 + excess(r, z, gamma)).masked_fill(all_inf, math.inf).squeeze(dim)


def smooth_min(a: torch.Tensor, gamma: float, dim: int = -1) -> torch.Tensor:
    """GTA's smoothMin (supplement eq. 1): the softmax(-a/gamma)-weighted average of ``a`` along ``dim``.

    ``a (..., K, ...)`` finite or +inf, ``gamma >= 0`` (0: hard minimum) -> ``a`` with ``dim`` removed.
    An upper bound: ``min(a) <= smooth_min(a) <= min(a) + gamma (x(K) - 1)``. A slice of all +inf gives +inf.
    """
    return _soft_reduce(a, gamma, dim, lambda r, z, g: (torch.softmax(z, dim) * r).sum(dim, keepdim=True))


def min_gamma(a: torch.Tensor, gamma: float, dim: int = -1) -> torch.Tensor:
    """The log-sum-exp soft minimum ``-gamma log sum exp(-a/gamma)`` (supplement eq. 7) along ``dim``.

    ``a (..., K, ...)`` finite or +inf, ``gamma >= 0`` (0: hard minimum) -> ``a`` with ``dim`` removed.
    A lower bound: ``min(a) - gamma log K <= min_gamma(a) <= min(a)``, the lower end reached exactly at a K-way
    tie. A slice of all +inf gives +inf.
    """
    return _soft_reduce(a, gamma, dim, lambda r, z, g: -g * torch.logsumexp(z, dim, keepdim=True))


def softmin3(a: torch.Tensor, gamma: float, relaxation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The local step of the DTW recursion with its derivatives, for finite inputs (no validation).

    Args:
        a: ``(..., 3)`` the three predecessors (left, diagonal, up); finite, the DTW border is a large
            finite value.
        gamma: temperature > 0 (ignored for ``"hard"``).
        relaxation: ``"smoothmin"``, ``"min_gamma"`` or ``"hard"``.
    Returns:
        ``value (...)`` and ``d (..., 3)``, the derivative of value with respect to each entry of ``a``:
        smoothmin ``w_k (1 - (a_k - value)/gamma)``, min_gamma ``w_k``, hard the one-hot argmin
        (first minimum on ties), where ``w = softmax(-a/gamma)``.
    """
    a0, arg = a.min(-1, keepdim=True)
    if relaxation == "hard":
        return a0.squeeze(-1), torch.zeros_like(a).scatter_(-1, arg, 1.0)
    r = a - a0
    w = torch.softmax(-r / gamma, -1)
    if relaxation == "min_gamma":
        value = a0 - gamma * torch.log(torch.exp(-r / gamma).sum(-1, keepdim=True))
        return value.squeeze(-1), w
    excess = (w * r).sum(-1, keepdim=True)
    # (r - excess) / gamma can overflow where a_k is the border; its weight is exactly 0 there.
    d = torch.where(w > 0, w * (1 - (r - excess) / gamma), torch.zeros_like(w))
    return (a0 + excess).squeeze(-1), d
