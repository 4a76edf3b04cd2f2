"""Plain per-cell DTW loop with autograd: the reference the fast kernels are checked against.

Written straight from docs/method.md Sec. 3: border predecessors (+inf) are left out of the minimum, which is what a
+inf border means for all three relaxations.
"""
from __future__ import annotations

import torch


def local_min(a: torch.Tensor, gamma: float, relaxation: str) -> torch.Tensor:
    """softmin of a 1-D tensor of finite predecessors."""
    if relaxation == "hard" or gamma == 0:
        return a.min()
    if relaxation == "min_gamma":
        return -gamma * torch.logsumexp(-a / gamma, 0)
    return (torch.softmax(-a / gamma, 0) * a).sum()


def reference_table(cost: torch.Tensor, gamma: float, relaxation: str, allowed=None,
                    free_top: bool = False, first_row: torch.Tensor | None = None) -> torch.Tensor:
    """``cost (N, M) -> R (N+1, M+1)`` with a +inf border, by a Python loop over cells (autograd-friendly).

    `allowed`: an optional ``(N, M)`` boolean array; the other cells are +inf (the DP restricted to a band).
    `free_top`: row 0 is ``[+inf, 0, 0, ...]`` instead of ``[0, +inf, ...]`` (subsequence DTW: start anywhere).
    `first_row`: row 0 given, ``(M+1,)`` (differentiable; +inf entries are absent predecessors).
    """
    n, m = cost.shape
    inf = torch.tensor(float("inf"), dtype=cost.dtype)
    zero = torch.zeros((), dtype=cost.dtype)
    top = [inf] + [zero] * m if free_top else [zero] + [inf] * m
    if first_row is not None:
        top = list(first_row.unbind(0))
    rows = [top] + [[inf] + [inf] * m for _ in range(n)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            preds = [p for p in (rows[i][j - 1], rows[i - 1][j - 1], rows[i - 1][j]) if bool(torch.isfinite(p))]
            if preds and (allowed is None or allowed[i - 1, j - 1]):
                rows[i][j] = cost[i - 1, j - 1] + local_min(torch.stack(preds), gamma, relaxation)
    return torch.stack([torch.stack(r) for r in rows])
