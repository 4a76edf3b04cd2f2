"""Synthetic time-warped sequences, a small MLP embedder and the nearest-neighbour Kendall's tau, for tests."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import kendalltau
from torch import nn


def random_curve(rng: np.random.Generator, dim: int, waves: int = 3):
    """A smooth random curve ``c: [0, 1] -> R^dim`` (a sum of random sinusoids)."""
    freq = rng.uniform(0.5, 2.0, (waves, dim))
    phase = rng.uniform(0, 2 * np.pi, (waves, dim))
    amp = rng.normal(size=(waves, dim))
    return lambda s: (amp * np.sin(2 * np.pi * freq * s[:, None, None] + phase)).sum(1)


def random_warp(rng: np.random.Generator, frames: int) -> np.ndarray:
    """A random strictly monotonic warp: ``frames`` times in [0, 1], starting at 0 and ending at 1."""
    steps = rng.uniform(0.2, 1.8, frames - 1)
    return np.concatenate([[0.0], np.cumsum(steps) / steps.sum()])


def warped_copies(rng: np.random.Generator, videos: int, frames: int, dim: int, noise: float = 0.05,
                  curve=None) -> torch.Tensor:
    """``(videos, frames, dim)`` float32 L2-normalised noisy time-warped copies of one random curve."""
    curve = curve or random_curve(rng, dim)
    seqs = np.stack([curve(random_warp(rng, frames)) for _ in range(videos)])
    seqs = seqs + noise * rng.normal(size=seqs.shape)
    return F.normalize(torch.tensor(seqs, dtype=torch.float32), dim=-1)


def shuffle_one(embs: torch.Tensor, rng: np.random.Generator, video: int = 1) -> torch.Tensor:
    """A copy of ``embs (B, T, D)`` with the frames of one video randomly permuted in time."""
    out = embs.clone()
    out[video] = embs[video, torch.as_tensor(rng.permutation(embs.shape[1]))]
    return out


class Embedder(nn.Module):
    """A small MLP frame embedder with L2-normalised output: ``(B, T, d_in) -> (B, T, d_out)``."""

    def __init__(self, d_in: int, d_out: int = 16, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x), dim=-1)


def alignment_tau(embs: torch.Tensor) -> float:
    """Mean Kendall's tau of nearest-neighbour alignment (squared Euclidean) over ordered pairs of videos."""
    taus = []
    for i in range(len(embs)):
        for j in range(len(embs)):
            if i != j:
                nn_index = torch.cdist(embs[i], embs[j]).argmin(1).numpy()
                taus.append(kendalltau(np.arange(len(nn_index)), nn_index).statistic)
    return float(np.nanmean(taus))


def with_distractors(rng: np.random.Generator, curve, videos: int, frames: int, distractors: int = 28,
                     noise: float = 0.05) -> torch.Tensor:
    """``(videos, frames, curve dims + distractors)`` raw inputs: time-warped copies of ``curve`` plus
    distractor dimensions of unit Gaussian noise that an embedder must learn to ignore."""
    seqs = np.stack([curve(random_warp(rng, frames)) for _ in range(videos)])
    seqs = seqs + noise * rng.normal(size=seqs.shape)
    junk = rng.normal(size=(videos, frames, distractors))
    return torch.tensor(np.concatenate([seqs, junk], -1), dtype=torch.float32)
