"""Independent straightforward implementations of the published formulas, cell by cell, for the tests.

Nothing here uses gtalign: the DTW table is filled one cell at a time as the published GTA code does
(border = float32 max), in float64, and TCC follows the equations of its paper frame by frame.
"""
from __future__ import annotations

import torch

BORDER = float(torch.finfo(torch.float32).max)   # the published code's "infinity"


def softmin(neighbours: torch.Tensor, gamma: float, relaxation: str) -> torch.Tensor:
    """The three-way minimum of the DTW recursion, as in the published code."""
    if relaxation == "smoothmin":          # 'dtw_prob'
        probs = torch.softmax(-neighbours / gamma, 0)
        return (probs * neighbours).sum()
    if relaxation == "min_gamma":          # 'dtw_minGamma'
        z = -neighbours / gamma
        return -gamma * (z.max() + torch.log(torch.exp(z - z.max()).sum()))
    return neighbours.min()                # 'non-diff'


def dtw_table(cost: torch.Tensor, gamma: float, relaxation: str) -> torch.Tensor:
    """``(N, M)`` cost -> ``(N+1, M+1)`` table, one cell at a time."""
    n, m = cost.shape
    zero = cost.new_zeros(())
    big = cost.new_tensor(BORDER)
    rows = [[zero] + [big] * m]
    for i in range(1, n + 1):
        row = [big]
        for j in range(1, m + 1):
            neighbours = torch.stack([row[j - 1], rows[i - 1][j - 1], rows[i - 1][j]])
            row.append(cost[i - 1, j - 1] + softmin(neighbours, gamma, relaxation))
        rows.append(row)
    return torch.stack([torch.stack(r) for r in rows])


def contrastive(x: torch.Tensor, y: torch.Tensor, gamma_f: float) -> torch.Tensor:
    """``-log softmax`` over the frames of x (axis 0) of ``x y^T / gamma_f``."""
    return -torch.log_softmax(x @ y.T / gamma_f, dim=0)


def gta_pair(x, y, gamma_f, gamma_s, relaxation, smoothing, cycle_logits):
    """``(cycle CE rows (N,), R_xy[N, M], R_yx[M, N])`` of one pair, as the published code computes them."""
    r_xy = dtw_table(contrastive(x, y, gamma_f), gamma_s, relaxation)
    r_yx = dtw_table(contrastive(y, x, gamma_f), gamma_s, relaxation)
    a_xy = torch.softmax(-r_xy[1:, 1:], dim=0)
    a_yx = torch.softmax(-r_yx[1:, 1:], dim=0)
    cycle = (a_xy @ a_yx).T
    n = len(x)
    target = torch.eye(n, dtype=x.dtype) * (1 - smoothing) + smoothing / n
    log_probs = torch.log_softmax(cycle, dim=1) if cycle_logits == "published" else torch.log(cycle)
    return -(target * log_probs).sum(1), r_xy[-1, -1], r_yx[-1, -1]


def gta_loss(videos, pairs, gamma_f=0.1, gamma_s=0.1, relaxation="smoothmin", smoothing=0.1,
             cycle_logits="published", cycle=True):
    """The GTA loss of a list of unpadded videos ``(T_b, D)`` over the given ordered pairs ``[(i, j), ...]``."""
    rows, s_xy, s_yx = [], [], []
    for i, j in pairs:
        ce, a, b = gta_pair(videos[i], videos[j], gamma_f, gamma_s, relaxation, smoothing, cycle_logits)
        rows.append(ce)
        s_xy.append(a)
        s_yx.append(b)
    if not cycle:
        return torch.stack(s_xy).mean()
    return torch.cat(rows).mean() + 0.1 * torch.stack(s_xy).mean() + 0.1 * torch.stack(s_yx).mean()


def tcc_loss(videos, loss_type="regression_mse_var", similarity="l2", temperature=0.1, smoothing=0.1,
             variance_lambda=0.001, times=None):
    """TCC (Dwibedi et al. 2019) over all ordered pairs, one frame at a time.

    ``times[b]``: the (normalised) time of each frame of video b (default ``k / T_b``).
    """
    def sim(a, b):          # a: (D,), b: (M, D) -> (M,)
        d = a.shape[-1]
        s = -((a[None, :] - b) ** 2).sum(-1) if similarity == "l2" else b @ a
        return s / d / temperature

    if times is None:
        times = [torch.arange(len(v), dtype=v.dtype) / len(v) for v in videos]
    losses = []
    for i, u in enumerate(videos):
        for j, v in enumerate(videos):
            if i == j:
                continue
            t = times[i]
            for frame in range(len(u)):
                alpha = torch.softmax(sim(u[frame], v), 0)
                nearest = (alpha[:, None] * v).sum(0)
                logits = sim(nearest, u)
                beta = torch.softmax(logits, 0)
                if loss_type == "classification":
                    k = len(u)
                    target = torch.full((k,), smoothing / k, dtype=u.dtype)
                    target[frame] += 1 - smoothing
                    losses.append(-(target * torch.log_softmax(logits, 0)).sum())
                    continue
                mu = (beta * t).sum()
                if loss_type == "regression_mse":
                    losses.append((t[frame] - mu) ** 2)
                else:
                    var = (beta * (t - mu) ** 2).sum()
                    losses.append((t[frame] - mu) ** 2 / var + variance_lambda * torch.log(var))
    return torch.stack(losses).mean()


def _normalize(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True)


def scl_loss(views, steps, temperature=0.1, variance=10.0):
    """CARL's SCL over pairs of views ``[(U, V), ...]`` of one video each, frame by frame: the mean over the frames
    of both views of KL(Gaussian prior on the step gap || softmax over the other view's frames)."""
    terms = []
    for (u, v), (su, sv) in zip(views, steps):
        for a, b, sa, sb in ((u, v, su, sv), (v, u, sv, su)):
            a, b, sa, sb = _normalize(a), _normalize(b), sa.double(), sb.double()
            for i in range(len(a)):
                prior = torch.stack([torch.exp(-(sa[i] - sb[j]) ** 2 / (2 * variance)) for j in range(len(b))])
                prior = prior / prior.sum()
                logits = torch.stack([a[i] @ b[j] / temperature for j in range(len(b))])
                q = torch.exp(logits) / torch.exp(logits).sum()
                terms.append(sum(p * (torch.log(p) - torch.log(qq)) for p, qq in zip(prior, q) if p > 0))
    return torch.stack(terms).mean()


def lav_loss(videos, steps, pairs, alpha=0.5, window=10.0, margin=2.0, gamma=0.1):
    """LAV over the given ordered pairs, with the IDM summed cell by cell."""
    def idm(x, s):
        span = s[-1] - s[0] + 1
        total = x.new_zeros(())
        for i in range(len(x)):
            for j in range(len(x)):
                d = ((x[i] - x[j]) ** 2).sum()
                gap = abs(s[i] - s[j])
                total = total + ((1 + (gap / span) ** 2) * torch.relu(margin - d) if gap > window else d)
        return total

    videos = [_normalize(v) for v in videos]
    out = []
    for i, j in pairs:
        x, y = videos[i], videos[j]
        cost = torch.stack([torch.stack([((a - b) ** 2).sum() for b in y]) for a in x])
        sdtw = dtw_table(cost, gamma, "min_gamma")[-1, -1]
        out.append((sdtw + alpha * (idm(x, steps[i].double()) + idm(y, steps[j].double()))) / ((len(x) + len(y)) / 2))
    return torch.stack(out).mean()


def drop_dtw_score(cost, drop_x, drop_y, gamma, relaxation):
    """The four Drop-DTW tables of one pair (MM, MD, DM, DD), one cell at a time, with a large finite border."""
    n, m = cost.shape
    big = cost.new_tensor(BORDER)
    t = {key: [[big] * (m + 1) for _ in range(n + 1)] for key in ("MM", "MD", "DM", "DD")}
    t["MM"][0][0] = cost.new_zeros(())
    for i in range(n + 1):
        for j in range(m + 1):
            if i > 0 and j > 0:
                cand = [t[k][i - 1][j - 1] for k in ("MM", "MD", "DM", "DD")]
                cand += [t["MM"][i - 1][j], t["DM"][i - 1][j], t["MM"][i][j - 1], t["MD"][i][j - 1]]
                t["MM"][i][j] = cost[i - 1, j - 1] + softmin(torch.stack(cand), gamma, relaxation)
            if j > 0:
                t["MD"][i][j] = drop_y[j - 1] + softmin(torch.stack([t["MM"][i][j - 1], t["MD"][i][j - 1]]),
                                                        gamma, relaxation)
            if i > 0:
                t["DM"][i][j] = drop_x[i - 1] + softmin(torch.stack([t["MM"][i - 1][j], t["DM"][i - 1][j]]),
                                                        gamma, relaxation)
                t["DD"][i][j] = drop_x[i - 1] + softmin(torch.stack([t["MD"][i - 1][j], t["DD"][i - 1][j]]),
                                                        gamma, relaxation)
    return softmin(torch.stack([t[k][n][m] for k in ("MM", "MD", "DM", "DD")]), gamma, relaxation)


def dropdtw_loss(videos, pairs, keep=0.3, temperature=0.1, gamma=0.1):
    """The Drop-DTW loss over the given ordered pairs: quantile drop option, row and column softmaxes per frame."""
    videos = [_normalize(v) for v in videos]
    out = []
    for i, j in pairs:
        x, y = videos[i], videos[j]
        sim = x @ y.T
        k = max(1, int(keep * sim.numel()))
        base = sorted(sim.detach().flatten().tolist(), reverse=True)[k - 1]
        cost = torch.zeros_like(sim)
        drop_x, drop_y = [], []
        for a in range(len(x)):
            logits = torch.cat([sim[a], sim.new_tensor([base])]) / temperature
            logp = logits - torch.logsumexp(logits, 0)
            cost[a] = cost[a] - logp[:-1] / 2
            drop_x.append(-logp[-1])
        for b in range(len(y)):
            logits = torch.cat([sim[:, b], sim.new_tensor([base])]) / temperature
            logp = logits - torch.logsumexp(logits, 0)
            cost[:, b] = cost[:, b] - logp[:-1] / 2
            drop_y.append(-logp[-1])
        out.append(drop_dtw_score(cost, torch.stack(drop_x), torch.stack(drop_y), gamma, "smoothmin"))
    return torch.stack(out).mean()
