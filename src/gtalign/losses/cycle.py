"""Global cycle-consistency of GTA (docs/method.md Sec. 4) on the soft-DTW tables of a pair and its reverse.

For a pair (X, Y) with tables ``R_xy`` (N x M) and ``R_yx`` (M x N) (border removed):

- ``A_xy = softmax over rows of -R_xy`` (N x M, every column sums to 1), likewise ``A_yx`` (M x N);
- cycle matrix ``P = (A_xy @ A_yx)^T`` (N x N, every row sums to 1): row n is where frame n of X returns;
- the loss is the label-smoothed cross-entropy of the rows of P against the identity.

``"published"`` passes P to a cross-entropy on LOGITS (a second softmax over P's rows), as the published code
does; ``"normalized"`` uses P itself as the predicted distribution (``-log P``, computed in log space).
"""
from __future__ import annotations

from typing import Literal

import torch

from gtalign.losses.crossentropy import masked_log_softmax, smoothed_nll
from gtalign.registry import check_choice, choices

CycleLogits = Literal["published", "normalized"]
CYCLE_LOGITS: tuple[str, ...] = choices(CycleLogits)


def check_cycle_logits(cycle_logits: str) -> str:
    """Return ``cycle_logits`` or raise GtalignError unless it is one of CYCLE_LOGITS."""
    check_choice("cycle_logits", cycle_logits, CYCLE_LOGITS)
    return cycle_logits


def _valid_cells(rows: torch.Tensor, cols: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """``(P, n, m)`` bool mask of cells ``i < rows[p]`` and ``j < cols[p]``."""
    i = torch.arange(n, device=rows.device)[None, :, None] < rows[:, None, None]
    j = torch.arange(m, device=cols.device)[None, None, :] < cols[:, None, None]
    return i & j


def alignment_log_probs(table: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``log A``: log-softmax over rows (dim -2) of ``-table`` on the valid cells, ``-inf`` elsewhere.

    Args:
        table: ``(P, N, M)`` DTW table without its border (``R[:, 1:, 1:]``); padded cells may be +inf.
        rows, cols: ``(P,)`` valid sizes of each table.
    """
    valid = _valid_cells(rows, cols, table.shape[-2], table.shape[-1])
    return masked_log_softmax(-table, valid, dim=-2)


def cycle_loss_rows(table_xy: torch.Tensor, table_yx: torch.Tensor, len_x: torch.Tensor, len_y: torch.Tensor,
                    cycle_logits: str = "published", smoothing: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row cycle cross-entropies of P pairs.

    Args:
        table_xy: ``(P, N, M)`` tables ``R_xy[1:, 1:]``; ``table_yx``: ``(P, M, N)`` tables ``R_yx[1:, 1:]``.
        len_x, len_y: ``(P,)`` valid lengths.
    Returns:
        ``(losses (P, N), valid_rows (P, N))``: the loss of each frame of X and which frames exist.
    """
    n = table_xy.shape[-2]
    log_a_xy = alignment_log_probs(table_xy, len_x, len_y)          # (P, N, M), [n, m]
    log_a_yx = alignment_log_probs(table_yx, len_y, len_x)          # (P, M, N), [m, n']
    classes = _valid_cells(len_x, len_x, n, n)                      # (P, N, N) rows n' x classes n
    if cycle_logits == "published":
        cycle = (log_a_xy.exp() @ log_a_yx.exp()).transpose(-1, -2)  # P[n', n], rows sum to 1
        log_probs = masked_log_softmax(cycle, classes)
    else:
        # log P[n', n] = logsumexp_m(log A_yx[m, n'] + log A_xy[n, m]); invalid (n', n) are set to 0 first
        # so no slice of the logsumexp is all -inf (which would give NaN gradients).
        terms = log_a_yx.transpose(-1, -2)[:, :, None, :] + log_a_xy[:, None, :, :]   # (P, N', N, M)
        terms = torch.where(classes[..., None], terms, 0.0)
        log_probs = torch.logsumexp(terms, -1).masked_fill(~classes, float("-inf"))
    target = torch.arange(n, device=table_xy.device).expand(len(len_x), n)
    losses = smoothed_nll(log_probs.reshape(-1, n), classes.reshape(-1, n), target.reshape(-1), smoothing)
    valid_rows = torch.arange(n, device=len_x.device)[None, :] < len_x[:, None]
    return losses.reshape(-1, n), valid_rows
