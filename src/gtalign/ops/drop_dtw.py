"""Drop-DTW (Dvornik, Hadji, Derpanis, Garg, Jepson, NeurIPS 2021): DTW that may leave frames out, at a price.

An alignment of ``x`` (N frames) and ``y`` (M frames) keeps some frames of each and drops the rest: the kept frames
are matched by an ordinary DTW path (steps (1, 0), (0, 1), (1, 1) in kept frames), every dropped frame ``x_i``
costs ``drop_x[i]`` and every dropped ``y_j`` costs ``drop_y[j]``. The score is the (smooth) minimum over all
alignments of ``sum of matched costs + sum of drop costs``. Dropping everything is allowed (its score is the sum of
all drop costs), so a drop cost says "matching this frame is worth at most this much". ``drop_x=None`` forbids drops
of x (likewise y); with both None this is plain DTW, equal to :func:`gtalign.ops.smooth_dtw`.

Four tables, by what the last frame of each prefix does (the paper's zx, z-, -x, --)::

    MM[i, j]: x_i matched with y_j          MD[i, j]: x_i matched, y_j dropped
    DM[i, j]: x_i dropped, y_j matched      DD[i, j]: both dropped

    MM = C[i, j] + softmin(MM, MD, DM, DD at (i-1, j-1);  MM, DM at (i-1, j);  MM, MD at (i, j-1))
    MD = drop_y[j] + softmin(MM, MD at (i, j-1))
    DM = drop_x[i] + softmin(MM, DM at (i-1, j))
    DD = drop_x[i] + softmin(MD, DD at (i-1, j))

with ``MM[0, 0] = 0`` (the empty start counts as a match) and +inf where a table is undefined. Between two matches
the y frames are dropped first, then the x frames, so each alignment is counted exactly once (``min_gamma`` is then
the log-sum-exp over alignments, as a brute-force enumeration checks). ``drop_dtw`` runs a compiled sweep with the
pairs as SIMD lanes and an analytic backward on the CPU (:mod:`gtalign.ops.drop_dtw_numba`) and sweeps anti-diagonals
in torch elsewhere (any device, differentiable by autograd); :func:`drop_dtw_path` is the hard alignment of one long
pair (numba), with the frames it matched and dropped.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import torch
from numba import njit

from gtalign.checks import check_finite
from gtalign.errors import GtalignError, describe
from gtalign.ops.drop_dtw_numba import DropDTWFunction
from gtalign.ops.dtw import _check_cost, _check_lengths
from gtalign.ops.smoothmin import Relaxation, check_gamma, check_relaxation, min_gamma, smooth_min
from gtalign.registry import check_choice


def _check_drops(name: str, drop, batch: int, frames: int, like: torch.Tensor, validate: bool) -> torch.Tensor:
    """``drop`` as ``(B, frames)`` on ``like``'s device and dtype: a number, ``(frames,)``, ``(B, frames)`` or None
    (+inf: that sequence keeps every frame)."""
    if drop is None:
        return like.new_full((batch, frames), math.inf)
    t = torch.as_tensor(drop, dtype=like.dtype, device=like.device)
    if t.dim() == 0:
        t = t.expand(batch, frames)
    elif t.dim() == 1 and t.shape[0] == frames:
        t = t.expand(batch, frames)
    elif tuple(t.shape) != (batch, frames):
        raise GtalignError(f"{name} must be a number, ({frames},) or ({batch}, {frames}) drop costs, "
                           f"got {describe(drop)}")
    if validate:
        check_finite(name, t)
    return t


def _prepare(cost, drop_x, drop_y, lengths, validate: bool = True):
    cost = _check_cost(cost, validate)
    if cost.dtype not in (torch.float32, torch.float64):
        cost = cost.float()
    unbatched = cost.dim() == 2
    cost = cost.unsqueeze(0) if unbatched else cost
    batch, n, m = cost.shape
    dx = _check_drops("drop_x", drop_x, batch, n, cost, validate)
    dy = _check_drops("drop_y", drop_y, batch, m, cost, validate)
    len_x, len_y = _check_lengths(lengths, batch, n, m, cost.device)
    return cost, dx, dy, len_x, len_y, unbatched


def _softmin(candidates: list[torch.Tensor], gamma: float, relaxation: str) -> torch.Tensor:
    stacked = torch.stack(candidates, -1)
    if relaxation == "hard":
        return stacked.amin(-1)
    return (smooth_min if relaxation == "smoothmin" else min_gamma)(stacked, gamma, -1)


def drop_dtw(cost: torch.Tensor, drop_x=None, drop_y=None, gamma: float = 0.1, relaxation: Relaxation = "smoothmin",
             lengths: Sequence[torch.Tensor] | None = None, validate: bool = True,
             backend: str = "auto") -> torch.Tensor:
    """The Drop-DTW score of each pair (module docstring), differentiable w.r.t. ``cost`` and the drop costs.

    Args:
        cost: ``(B, N, M)`` or ``(N, M)`` finite match costs.
        drop_x: cost of dropping each frame of x: a number, ``(N,)`` or ``(B, N)``; None: x keeps every frame.
        drop_y: the same for y (``M`` frames).
        gamma: ``gamma >= 0``; 0 gives the hard minimum.
        relaxation: ``"smoothmin"`` (GTA's, default), ``"min_gamma"`` (log-sum-exp) or ``"hard"``.
        lengths: optional ``(len_x, len_y)``, two ``(B,)`` integer tensors for padded batches.
        validate: check that the costs are finite (a device sync each); False where the caller has.
        backend: ``"auto"`` (numba on the CPU, torch elsewhere), ``"numba"`` or ``"torch"`` (any device).
    Returns:
        ``(B,)`` scores (a scalar for an unbatched cost), in float32 or float64 as the cost.
    """
    gamma = check_gamma(gamma)
    relaxation = "hard" if gamma == 0 else check_relaxation(relaxation)
    backend = check_choice("backend", backend, ["auto", "numba", "torch"])
    cost, dx, dy, len_x, len_y, unbatched = _prepare(cost, drop_x, drop_y, lengths, validate)
    on_cpu = cost.device.type == "cpu"
    if backend == "numba" and not on_cpu:
        raise GtalignError(f"backend 'numba' runs on the CPU, got cost on {cost.device}")
    if backend == "numba" or (backend == "auto" and on_cpu):
        out = DropDTWFunction.apply(cost, dx, dy, len_x, len_y, gamma, relaxation)
    else:
        out = _drop_dtw_torch(cost, dx, dy, len_x, len_y, gamma, relaxation)
    return out.squeeze(0) if unbatched else out


def _drop_dtw_torch(cost, dx, dy, len_x, len_y, gamma: float, relaxation: str) -> torch.Tensor:
    """The anti-diagonal sweep in torch (autograd through every step): ``(B,)`` scores."""
    batch, n, m = cost.shape
    inf = math.inf
    padded = torch.full((batch, n + 1, m + 1), inf, dtype=cost.dtype, device=cost.device)
    padded = torch.cat([padded[:, :1], torch.cat([padded[:, 1:, :1], cost], 2)], 1)  # C at [1:, 1:], inf on border
    dxp = torch.cat([dx.new_full((batch, 1), inf), dx], 1)                              # (B, N+1), index i
    dyp = torch.cat([dy.new_full((batch, 1), inf), dy], 1)                              # (B, M+1), index j
    rows = torch.arange(n + 1, device=cost.device)
    flat = padded.reshape(batch, -1)

    def shifted(t: torch.Tensor) -> torch.Tensor:  # value at index i is t[i - 1]: the cell one row up
        return torch.cat([t.new_full((batch, 1), inf), t[:, :-1]], 1)

    start = torch.full((batch, n + 1), inf, dtype=cost.dtype, device=cost.device)
    start_mm = start.clone()
    start_mm[:, 0] = 0.0
    prev2 = None
    prev1 = {"MM": start_mm, "MD": start, "DM": start, "DD": start}  # diagonal k = 0: the cell (0, 0)
    ends = []  # the four states at (len_x, len_y) of each pair, found on diagonal len_x + len_y
    target = len_x + len_y
    for k in range(1, n + m + 1):
        cols = k - rows
        valid = (cols >= 0) & (cols <= m)
        colc = cols.clamp(0, m)
        c = flat[:, rows * (m + 1) + colc].masked_fill(~valid, inf)
        d_y = dyp[:, colc].masked_fill(~valid, inf)
        d_x = dxp.masked_fill(~valid, inf)
        up = {key: shifted(v) for key, v in prev1.items()}
        diag: dict[str, torch.Tensor] | None = None if prev2 is None else {k: shifted(v) for k, v in prev2.items()}
        match = [up["MM"], up["DM"], prev1["MM"], prev1["MD"]]
        if diag is not None:
            match += [diag["MM"], diag["MD"], diag["DM"], diag["DD"]]
        state = {
            "MM": c + _softmin(match, gamma, relaxation),
            "MD": d_y + _softmin([prev1["MM"], prev1["MD"]], gamma, relaxation),
            "DM": d_x + _softmin([up["MM"], up["DM"]], gamma, relaxation),
            "DD": d_x + _softmin([up["MD"], up["DD"]], gamma, relaxation),
        }
        state = {key: v.masked_fill(~valid, inf) for key, v in state.items()}
        hits = (target == k).nonzero().flatten()
        if len(hits):
            four = torch.stack([state[key][hits, len_x[hits]] for key in ("MM", "MD", "DM", "DD")], -1)
            ends.append((hits, _softmin(list(four.unbind(-1)), gamma, relaxation)))
        prev2, prev1 = prev1, state
    out = cost.new_zeros(batch)
    for hits, value in ends:
        out = out.index_put((hits,), value)
    return out


class DropAlignment(NamedTuple):
    """The hard Drop-DTW alignment of one pair: its score, the matched ``(i, j)`` pairs ``(P, 2)`` int64 in order,
    and the dropped frames of x and of y (sorted int64 indices)."""

    score: float
    path: np.ndarray
    dropped_x: np.ndarray
    dropped_y: np.ndarray


_MM, _MD, _DM, _DD = 0, 1, 2, 3


@njit(cache=True)
def _hard_tables(cost, dx, dy):  # pragma: no cover - compiled; checked against drop_dtw and brute force
    n, m = cost.shape
    table = np.full((n + 1, m + 1, 4), np.inf)
    back = np.full((n + 1, m + 1, 4), -1, dtype=np.int64)  # predecessor's code: 4 * move + state
    table[0, 0, _MM] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            if i > 0 and j > 0:  # MM: diagonal (any state), up (MM, DM), left (MM, MD); first minimum kept
                best, arg = np.inf, -1
                for s in range(4):
                    if table[i - 1, j - 1, s] < best:
                        best, arg = table[i - 1, j - 1, s], s
                for s in (_MM, _DM):
                    if table[i - 1, j, s] < best:
                        best, arg = table[i - 1, j, s], 4 + s
                for s in (_MM, _MD):
                    if table[i, j - 1, s] < best:
                        best, arg = table[i, j - 1, s], 8 + s
                table[i, j, _MM], back[i, j, _MM] = cost[i - 1, j - 1] + best, arg
            if j > 0:  # MD: y_j dropped after x_i's match
                a, b = table[i, j - 1, _MM], table[i, j - 1, _MD]
                table[i, j, _MD] = dy[j - 1] + min(a, b)
                back[i, j, _MD] = 8 + (_MM if a <= b else _MD)
            if i > 0:  # DM and DD: x_i dropped
                a, b = table[i - 1, j, _MM], table[i - 1, j, _DM]
                table[i, j, _DM] = dx[i - 1] + min(a, b)
                back[i, j, _DM] = 4 + (_MM if a <= b else _DM)
                a, b = table[i - 1, j, _MD], table[i - 1, j, _DD]
                table[i, j, _DD] = dx[i - 1] + min(a, b)
                back[i, j, _DD] = 4 + (_MD if a <= b else _DD)
    return table, back


def drop_dtw_path(cost, drop_x=None, drop_y=None) -> DropAlignment:
    """The hard Drop-DTW alignment of one pair (module docstring): what was matched and what was dropped.

    Args:
        cost: ``(N, M)`` finite match costs (torch tensor or numpy array).
        drop_x: the cost of dropping each frame of x: a number or ``(N,)``; None: x keeps every frame.
        drop_y: the same for y.
    Returns:
        :class:`DropAlignment`; its ``path`` is empty when dropping everything is cheapest.
    """
    array = cost.detach().cpu().numpy() if isinstance(cost, torch.Tensor) else np.asarray(cost)
    if array.ndim != 2 or array.size == 0 or not np.issubdtype(array.dtype, np.number):
        raise GtalignError(f"cost must be a non-empty (N, M) matrix, got {describe(cost)}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise GtalignError(f"cost must be finite, got {describe(cost)} with NaN or inf")
    n, m = array.shape
    drops = []
    for name, drop, frames in (("drop_x", drop_x, n), ("drop_y", drop_y, m)):
        d = np.full(frames, np.inf) if drop is None else np.broadcast_to(
            np.asarray(drop.detach().cpu() if isinstance(drop, torch.Tensor) else drop, dtype=np.float64), (frames,))
        if drop is not None and not np.isfinite(d).all():
            raise GtalignError(f"{name} must be finite drop costs, got {describe(drop)}")
        drops.append(np.ascontiguousarray(d))
    table, back = _hard_tables(np.ascontiguousarray(array), drops[0], drops[1])
    state = int(np.argmin(table[n, m]))
    score = float(table[n, m, state])
    i, j, path, dropped_x, dropped_y = n, m, [], [], []
    while (i, j) != (0, 0):
        if state == _MM:
            path.append((i - 1, j - 1))
        if state in (_DM, _DD):
            dropped_x.append(i - 1)
        if state == _MD:
            dropped_y.append(j - 1)
        code = int(back[i, j, state])
        move, state = divmod(code, 4)
        i, j = (i - 1, j - 1) if move == 0 else (i - 1, j) if move == 1 else (i, j - 1)
    return DropAlignment(score, np.asarray(path[::-1], dtype=np.int64).reshape(-1, 2),
                         np.asarray(sorted(dropped_x), dtype=np.int64), np.asarray(sorted(dropped_y), dtype=np.int64))
