"""Per-frame phase classification with a linear SVM (supplement Tables 1-3) and its few-shot variant.

The classifier is a linear SVM (one-vs-rest, squared hinge, C=1 as in TCC's evaluation code, which uses
scikit-learn's `LinearSVC`) on standardized per-frame embeddings: `LinearSVC`'s objective, solved to convergence by
Newton's method (`gtalign.evaluate.linear_svm`, several times faster). Over several classes the target is the global
`(class, phase)` label (`gtalign.evaluate.labels.GlobalLabels`); validation frames whose pair never occurs in the
training videos can only be counted wrong. Accuracy is per frame, over all labelled validation frames, as a fraction
in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np
from scipy import stats
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding
from gtalign.errors import GtalignError
from gtalign.evaluate.labels import GlobalLabels, stack_frames
from gtalign.evaluate.linear_svm import fit_linear_svm
from gtalign.evaluate.protocol_result import ProtocolResult

SVM_C = 1.0


def _percent(fraction: str) -> str:
    return f"{float(fraction) * 100:g}%"


@dataclass(frozen=True, kw_only=True)
class SvmResult(ProtocolResult):
    """Linear-SVM accuracies, fractions in [0, 1]: `accuracy[str(fraction)]` (the mean over classes with
    `per_event_svm`, each class's in `per_event[class][str(fraction)]`)."""

    protocol: ClassVar[str] = "svm"
    fractions: list[float] = field(default_factory=list)
    seed: int = 0
    C: float = SVM_C
    per_event_svm: bool = False
    per_event: dict[str, dict[str, float]] | None = None
    accuracy: dict[str, float]

    def summary(self) -> dict[str, float | None]:
        """Per-event SVM: each class's accuracy with all training videos, and their mean; else per fraction."""
        if self.per_event is not None:
            last = str(self.fractions[-1]) if self.fractions else list(self.accuracy)[-1]
            out: dict[str, float | None] = {c: acc[last] for c, acc in self.per_event.items()}
            return out | {"mean": self.accuracy[last]}
        return {_percent(f): acc for f, acc in self.accuracy.items()}


@dataclass(frozen=True, kw_only=True)
class FewShotResult(ProtocolResult):
    """Few-shot accuracies: `shots[str(k)] = {"mean", "ci95"}` over episodes (fractions in [0, 1])."""

    protocol: ClassVar[str] = "fewshot"
    episodes: int = 0
    seed: int = 0
    C: float = SVM_C
    shots: dict[str, dict[str, float]]

    def summary(self) -> dict[str, float | None]:
        """The mean accuracy per number of shots."""
        return {f"{k}-shot": v["mean"] for k, v in self.shots.items()}


def svm_accuracy(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
                 C: float = SVM_C) -> float:
    """Per-frame accuracy on `(val_x (N, D), val_y (N,))` of a linear SVM fit on `(train_x (M, D), train_y (M,))`."""
    if len(train_y) == 0 or len(val_y) == 0:
        raise GtalignError(f"the SVM needs labelled frames in both splits, got {len(train_y)} train and "
                           f"{len(val_y)} val frames")
    seen = np.unique(train_y)
    if seen.size == 1:  # one label only: every frame gets it
        return float(np.mean(val_y == seen[0]))
    scaler = StandardScaler().fit(train_x)
    model = fit_linear_svm(scaler.transform(train_x), train_y, C)
    return float(np.mean(model.predict(scaler.transform(val_x)) == val_y))


def _check_labelled(name: str, videos: EmbeddingSet) -> EmbeddingSet:
    labelled = videos.labelled()
    if not len(labelled):
        raise GtalignError(f"{name}: expected videos with per-frame labels, got {len(videos)} video(s) without")
    return labelled


def _check_fractions(fractions: Sequence[float]) -> list[float]:
    out = [float(f) for f in fractions]
    if not out or any(not 0.0 < f <= 1.0 for f in out):
        raise GtalignError(f"fractions must be a non-empty list of values in (0, 1], got {list(fractions)}")
    return out


def fraction_of_videos(videos: EmbeddingSet, fraction: float, seed: int) -> EmbeddingSet:
    """`fraction` of each class's videos (at least one), drawn once per seed; smaller fractions are subsets."""
    chosen: list[VideoEmbedding] = []
    for group in videos.by_class().values():
        order = np.random.default_rng([seed, len(group)]).permutation(len(group))
        count = max(1, int(fraction * len(group) + 1e-9))
        chosen.extend(group[int(i)] for i in order[:count])
    return EmbeddingSet(chosen, videos.checkpoint, videos.dataset, videos.root)


def _fraction_accuracies(train: EmbeddingSet, val: EmbeddingSet, fractions: list[float], seed: int,
                         C: float, desc: str) -> dict[str, float]:
    numbering = GlobalLabels(train, val)
    val_x, val_y = stack_frames(val, numbering)
    out = {}
    for f in tqdm(fractions, desc=desc, leave=False, disable=None):
        train_x, train_y = stack_frames(fraction_of_videos(train, f, seed), numbering)
        out[str(f)] = svm_accuracy(train_x, train_y, val_x, val_y, C)
    return out


def evaluate_svm(train: EmbeddingSet, val: EmbeddingSet, fractions: Sequence[float] = (0.1, 0.5, 1.0),
                 per_event: bool = False, seed: int = 0, C: float = SVM_C) -> SvmResult:
    """Linear-SVM phase classification with `fractions` of the labelled training videos (of each class).

    `per_event=False`: one SVM over all classes (global labels); `accuracy[fraction]`.
    `per_event=True`: one SVM per class (a FineGym event); `per_event[class][fraction]`, and `accuracy[fraction]`
    their mean over classes.
    """
    train, val = _check_labelled("train", train), _check_labelled("val", val)
    fractions = _check_fractions(fractions)
    if not per_event:
        return SvmResult(fractions=fractions, seed=seed, C=C, per_event_svm=False,
                         accuracy=_fraction_accuracies(train, val, fractions, seed, C, "svm"))
    val_by_class = val.by_class()
    events = {c: _fraction_accuracies(group, val_by_class[c], fractions, seed, C, f"svm {c}")
              for c, group in train.by_class().items() if c in val_by_class}
    if not events:
        raise GtalignError(f"per-event SVM: no class has both train and val videos (train {train.classes}, "
                           f"val {val.classes})")
    return SvmResult(fractions=fractions, seed=seed, C=C, per_event_svm=True, per_event=events,
                     accuracy={str(f): float(np.mean([e[str(f)] for e in events.values()])) for f in fractions})


def sample_episodes(train: EmbeddingSet, shots: int, episodes: int, seed: int) -> list[list[str]]:
    """`episodes` draws of `shots` labelled videos per class (ids), reproducible by `(seed, shots)`."""
    rng = np.random.default_rng([seed, shots])
    groups = [[v.id for v in group] for group in train.by_class().values()]
    return [[g[int(i)] for g in groups for i in rng.choice(len(g), min(shots, len(g)), replace=False)]
            for _ in range(episodes)]


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% Student-t confidence interval (NaN for fewer than two values)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return float(x.mean()) if x.size else float("nan"), float("nan")
    return float(x.mean()), float(stats.t.ppf(0.975, x.size - 1) * stats.sem(x))


def evaluate_fewshot(train: EmbeddingSet, val: EmbeddingSet, shots: Sequence[int] = tuple(range(1, 11)),
                     episodes: int = 50, seed: int = 0, C: float = SVM_C) -> FewShotResult:
    """Few-shot phase classification: per episode, a linear SVM on `k` labelled videos per class.

    Returns, per `k` in `shots`, the mean validation accuracy over `episodes` random episodes and the
    half-width of its 95% confidence interval (`shots[k] = {"mean", "ci95"}`).
    """
    train, val = _check_labelled("train", train), _check_labelled("val", val)
    shots = [int(k) for k in shots]
    if not shots or min(shots) < 1 or episodes < 1:
        raise GtalignError(f"shots must be positive integers and episodes >= 1, got shots={shots}, "
                           f"episodes={episodes}")
    numbering = GlobalLabels(train, val)
    val_x, val_y = stack_frames(val, numbering)
    by_id = {v.id: v for v in train}
    per_k: dict[str, dict[str, float]] = {}
    for k in shots:
        accs = []
        for ids in tqdm(sample_episodes(train, k, episodes, seed), desc=f"few-shot k={k}", leave=False,
                        disable=None):
            chosen = EmbeddingSet([by_id[i] for i in ids])
            train_x, train_y = stack_frames(chosen, numbering)
            accs.append(svm_accuracy(train_x, train_y, val_x, val_y, C))
        mean, ci = mean_ci95(accs)
        per_k[str(k)] = {"mean": mean, "ci95": ci}
    return FewShotResult(episodes=episodes, seed=seed, C=C, shots=per_k)
