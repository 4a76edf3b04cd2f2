"""TCC: temporal cycle-consistency (Dwibedi et al., CVPR 2019), the deterministic all-pairs version."""
from __future__ import annotations

from typing import Literal

import torch

from gtalign.errors import GtalignError
from gtalign.losses.base import FrameLoss, check_steps, frame_mask
from gtalign.losses.crossentropy import masked_log_softmax, smoothed_nll
from gtalign.losses.pairs import pair_indices
from gtalign.losses.registry import register
from gtalign.registry import check_choice, choices

TCCLossType = Literal["classification", "regression_mse", "regression_mse_var", "regression_huber"]
TCC_LOSS_TYPES: tuple[str, ...] = choices(TCCLossType)
Similarity = Literal["l2", "cosine"]
SIMILARITIES: tuple[str, ...] = choices(Similarity)


def scaled_similarity(a: torch.Tensor, b: torch.Tensor, similarity: str, temperature: float) -> torch.Tensor:
    """TCC's similarity ``(P, N, D), (P, M, D) -> (P, N, M)``: ``-|a_i - b_j|^2`` (``"l2"``) or ``a_i . b_j``
    (``"cosine"``), divided by the embedding size D and by the temperature."""
    if similarity == "l2":
        sim = -(a.pow(2).sum(-1)[..., :, None] + b.pow(2).sum(-1)[..., None, :] - 2 * a @ b.transpose(-1, -2))
        sim = sim.clamp_max(0.0)
    else:
        sim = a @ b.transpose(-1, -2)
    return sim / a.shape[-1] / temperature


def _huber(error: torch.Tensor, delta: float) -> torch.Tensor:
    absolute = error.abs()
    return torch.where(absolute <= delta, 0.5 * error**2, delta * (absolute - 0.5 * delta))


@register("tcc")
class TCCLoss(FrameLoss):
    r"""Temporal cycle-consistency loss (Dwibedi, Aytar, Tompson, Sermanet, Zisserman, CVPR 2019).

    For every ordered pair (U, V) of different videos of the batch and every frame u_i of U:

    - soft nearest neighbour ``v~ = sum_j alpha_j v_j``, ``alpha = softmax_j(sim(u_i, v_j))``;
    - cycle back: ``beta = softmax_k(sim(v~, u_k))`` with ``sim(a, b) = -|a - b|^2 / D / temperature`` (``"l2"``)
      or ``a . b / D / temperature`` (``"cosine"``).

    ``L = mean over all frames i of all pairs`` of one of:

    - ``"classification"``: cross-entropy of beta against frame i, label smoothing 0.1;
    - ``"regression_mse"``: ``(t_i - mu)^2`` with ``mu = sum_k beta_k t_k``;
    - ``"regression_mse_var"`` (default): ``(t_i - mu)^2 / sigma^2 + lambda log sigma^2``,
      ``sigma^2 = sum_k beta_k (t_k - mu)^2``, ``lambda = 0.001``;
    - ``"regression_huber"``: Huber loss of ``t_i - mu`` (delta 0.1).

    ``t_k`` are the frame indices: ``steps`` (extra, ``(B, T)`` frame index in the source video) or
    ``0..T-1``, divided by the video's length when ``normalize_indices`` (``seq_lens`` extra ``(B,)``, else
    the largest valid step + 1, else ``lengths``). Needs ``B >= 2``.
    """

    uses = frozenset({"steps", "seq_lens"})
    min_videos = 2

    def __init__(self, loss_type: str = "regression_mse_var", similarity: str = "l2", temperature: float = 0.1,
                 label_smoothing: float = 0.1, variance_lambda: float = 0.001, normalize_indices: bool = True,
                 huber_delta: float = 0.1):
        super().__init__()
        check_choice("loss_type", loss_type, TCC_LOSS_TYPES)
        check_choice("similarity", similarity, SIMILARITIES)
        if not float(temperature) > 0:
            raise GtalignError(f"temperature must be > 0, got {temperature!r}")
        self.loss_type = loss_type
        self.similarity = similarity
        self.temperature = float(temperature)
        self.label_smoothing = float(label_smoothing)
        self.variance_lambda = float(variance_lambda)
        self.normalize_indices = bool(normalize_indices)
        self.huber_delta = float(huber_delta)

    def _times(self, embs: torch.Tensor, lengths: torch.Tensor, steps, seq_lens) -> torch.Tensor:
        """``(B, T)`` float frame times t_k."""
        if steps is None:
            times = torch.arange(embs.shape[1], device=embs.device).expand(embs.shape[:2])
            scale = lengths
        else:
            times = check_steps(steps, embs)
            scale = times.masked_fill(~frame_mask(lengths, embs.shape[1]), 0).amax(1) + 1
        if seq_lens is not None:
            scale = torch.as_tensor(seq_lens, device=embs.device)
            if tuple(scale.shape) != (embs.shape[0],) or bool((scale <= 0).any()):
                raise GtalignError(f"seq_lens must be positive with shape ({embs.shape[0]},), got {scale.tolist()}")
        times = times.to(embs.dtype)
        return times / scale.to(embs.dtype)[:, None] if self.normalize_indices else times

    def compute(self, embs: torch.Tensor, lengths: torch.Tensor, steps=None, seq_lens=None) -> torch.Tensor:
        frames = embs.shape[1]
        times = self._times(embs, lengths, steps, seq_lens)
        first, second = pair_indices(embs.shape[0], "all", embs.device)
        u, v, t = embs[first], embs[second], times[first]                        # (P, T, D), (P, T, D), (P, T)
        mask_u = frame_mask(lengths[first], frames)
        mask_v = frame_mask(lengths[second], frames)
        alpha = masked_log_softmax(scaled_similarity(u, v, self.similarity, self.temperature),
                                   mask_v[:, None, :].expand(-1, frames, -1)).exp()
        logits = scaled_similarity(alpha @ v, u, self.similarity, self.temperature)   # (P, T, T)
        classes = mask_u[:, None, :] & mask_u[:, :, None]
        log_beta = masked_log_softmax(logits, classes)
        if self.loss_type == "classification":
            target = torch.arange(frames, device=embs.device).expand(len(u), frames)
            rows = smoothed_nll(log_beta.reshape(-1, frames), classes.reshape(-1, frames), target.reshape(-1),
                                self.label_smoothing).reshape(-1, frames)
            return rows[mask_u].mean()
        beta = log_beta.exp()                                                      # 0 on invalid classes
        mu = (beta * t[:, None, :]).sum(-1)                                        # (P, T)
        error = t - mu
        if self.loss_type == "regression_mse":
            rows = error**2
        elif self.loss_type == "regression_huber":
            rows = _huber(error, self.huber_delta)
        else:
            variance = (beta * (t[:, None, :] - mu[..., None]) ** 2).sum(-1).clamp_min(1e-12)
            log_var = variance.log()
            rows = torch.exp(-log_var) * error**2 + self.variance_lambda * log_var
        return rows[mask_u].mean()
