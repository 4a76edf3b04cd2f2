"""Masked softmax reductions and label-smoothed cross-entropy over a variable number of classes per row.

Keras' ``categorical_crossentropy(label_smoothing=s)``, used by both the published GTA and TCC code, mixes
the one-hot target with the uniform distribution: ``target = (1 - s) * onehot + s / K``.
"""
from __future__ import annotations

import torch


def _fill_invalid(x: torch.Tensor, valid: torch.Tensor, dim: int) -> torch.Tensor:
    """-inf at invalid entries of slices (along ``dim``) that have a valid entry; 0 in slices with none, so
    that no reduction sees only -inf (which gives NaN gradients)."""
    any_valid = valid.any(dim, keepdim=True)
    return torch.where(valid, x, torch.where(any_valid, float("-inf"), 0.0))


def masked_log_softmax(logits: torch.Tensor, valid: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log_softmax`` over the entries where ``valid`` is True; ``-inf`` elsewhere, never NaN.

    Slices along ``dim`` with no valid entry give ``-inf`` everywhere (and zero gradients).
    """
    return torch.log_softmax(_fill_invalid(logits, valid, dim), dim).masked_fill(~valid, float("-inf"))


def masked_logsumexp(x: torch.Tensor, valid: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``logsumexp`` along ``dim`` over the entries where ``valid`` is True; ``-inf`` for empty slices."""
    return torch.logsumexp(_fill_invalid(x, valid, dim), dim).masked_fill(~valid.any(dim), float("-inf"))


def smoothed_nll(log_probs: torch.Tensor, valid: torch.Tensor, target: torch.Tensor,
                 smoothing: float) -> torch.Tensor:
    """Per-row cross-entropy against a label-smoothed one-hot target.

    Args:
        log_probs: ``(R, K)`` log-probabilities (``-inf`` allowed where ``valid`` is False).
        valid: ``(R, K)`` bool, the classes that exist in each row (``K_r = valid[r].sum()``).
        target: ``(R,)`` int64 index of the true class.
        smoothing: ``s`` in [0, 1): target ``(1 - s) * onehot + s / K_r``.
    Returns:
        ``(R,)`` losses ``-sum_k target[k] log_probs[k]`` (rows without valid classes give 0).
    """
    classes = valid.sum(-1, keepdim=True).clamp_min(1).to(log_probs.dtype)
    onehot = torch.zeros_like(log_probs).scatter_(-1, target[:, None], 1.0)
    weights = ((1.0 - smoothing) * onehot + smoothing / classes) * valid
    return -(weights * log_probs.masked_fill(~valid, 0.0)).sum(-1)
