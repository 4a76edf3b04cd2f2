"""Phase progression: how linearly the embeddings encode progress through the current phase.

Target of frame t in a phase (a maximal run of one label) starting at frame s with L frames:
`(t - s) / L`, in [0, 1) (`gtalign.evaluate.labels.phase_progress`). This is per-phase progress, not TCC's
"event completion" (signed distance to each key event): it needs no fixed number of phases per class.
A least-squares linear regression (scikit-learn `LinearRegression`) is fit on all labelled training frames and
scored by R^2 on the validation frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from gtalign.data.embeddings import EmbeddingSet
from gtalign.errors import GtalignError
from gtalign.evaluate.labels import phase_progress
from gtalign.evaluate.protocol_result import ProtocolResult

TARGET = "phase progress (t - phase_start) / phase_len"


@dataclass(frozen=True, kw_only=True)
class ProgressionResult(ProtocolResult):
    """R^2 of the regression on validation frames (`r2`) and on its training frames (`train_r2`)."""

    protocol: ClassVar[str] = "progression"
    r2: float
    train_r2: float = float("nan")
    target: str = TARGET

    def summary(self) -> dict[str, float | None]:
        """The validation R^2."""
        return {"": self.r2}


def progress_frames(videos: EmbeddingSet) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings `(N, D)` and phase progress `(N,)` of all labelled frames of labelled videos."""
    videos = videos.labelled()
    if not len(videos):
        return np.zeros((0, 0), np.float32), np.zeros(0)
    embs = np.concatenate([v.emb for v in videos])
    target = np.concatenate([phase_progress(v.phase_labels()) for v in videos])
    keep = ~np.isnan(target)
    return embs[keep], target[keep]


def evaluate_progression(train: EmbeddingSet, val: EmbeddingSet) -> ProgressionResult:
    """R^2 on validation frames of a linear regression from embeddings to phase progress, fit on training frames."""
    train_x, train_y = progress_frames(train)
    val_x, val_y = progress_frames(val)
    if len(train_y) < 2 or len(val_y) < 2:
        raise GtalignError(f"progression needs labelled frames in both splits, got {len(train_y)} train and "
                           f"{len(val_y)} val frames")
    model = LinearRegression().fit(train_x, train_y)
    return ProgressionResult(r2=float(r2_score(val_y, model.predict(val_x))),
                             train_r2=float(model.score(train_x, train_y)))
