"""The protocol registry: each protocol is registered once with how to call it and how to summarize it.

The CLI, `run_protocols` and the report look protocols up here by name, so none of them grows an if-chain.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Any, Callable

from gtalign.data.embeddings import EmbeddingSet
from gtalign.errors import GtalignError
from gtalign.evaluate.alignment import evaluate_alignment
from gtalign.evaluate.classify import evaluate_fewshot, evaluate_svm
from gtalign.evaluate.kendall import evaluate_kendall
from gtalign.evaluate.progression import evaluate_progression
from gtalign.evaluate.retrieval import evaluate_retrieval
from gtalign.registry import Registry


def _percent(fraction: str) -> str:
    return f"{float(fraction) * 100:g}%"


@dataclass(frozen=True)
class Protocol:
    """How to run one protocol and summarize its numbers.

    `run(train, val, **opts)` (or `run(val, **opts)` when `uses_train` is False) returns a JSON-able dict;
    `summary(numbers)` gives the headline values by setting (a column of a report table, "" for a single one);
    the report shows values times `scale`, in `unit`.
    """

    name: str
    run: Callable[..., dict]
    uses_train: bool
    summary: Callable[[dict], dict[str, float]]
    title: str
    unit: str
    scale: float = 100.0

    @property
    def options(self) -> list[str]:
        """Keyword options `run` accepts."""
        params = list(inspect.signature(self.run).parameters.values())
        return [p.name for p in params[2 if self.uses_train else 1:]]


def _svm_summary(n: dict) -> dict[str, float]:
    if "per_event" in n:
        last = str(n["fractions"][-1])
        return {c: acc[last] for c, acc in n["per_event"].items()} | {"mean": n["accuracy"][last]}
    return {_percent(f): acc for f, acc in n["accuracy"].items()}


PROTOCOLS: Registry = Registry("protocol", {p.name: p for p in (
    Protocol("svm", evaluate_svm, True, _svm_summary, "Fine-grained action recognition (linear SVM)",
             "per-frame accuracy, %"),
    Protocol("fewshot", evaluate_fewshot, True, lambda n: {f"{k}-shot": v["mean"] for k, v in n["shots"].items()},
             "Few-shot phase classification", "per-frame accuracy, %, mean over episodes"),
    Protocol("progression", evaluate_progression, True, lambda n: {"": n["r2"]}, "Phase progression",
             "R^2 x 100"),
    Protocol("kendall", evaluate_kendall, False, lambda n: {"": n["tau"]}, "Video synchronization",
             "Kendall's tau x 100"),
    Protocol("retrieval", evaluate_retrieval, True, lambda n: {f"AP@{k}": v for k, v in n["ap"].items()},
             "Fine-grained frame retrieval", "AP@K, %"),
    Protocol("alignment", evaluate_alignment, False,
             lambda n: {f"{kind.upper()} {label}": n[kind][m] for kind in ("nn", "dtw")
                        for m, label in (("mae_frames", "error"), ("tau", "tau"))},
             "Alignment to ground-truth warps", "error in frames; Kendall's tau", scale=1.0),
)})


def available() -> list[str]:
    """Names of the registered protocols."""
    return list(PROTOCOLS)


def get_protocol(name: str) -> Protocol:
    return PROTOCOLS[name]


def run_protocol(embeddings: EmbeddingSet, name: str, split: str = "val", **opts: Any) -> dict:
    """Run one protocol on `embeddings` (training videos: split "train"; evaluated: `split`).

    Options the protocol does not take are ignored. Returns `{"numbers", "options", "seconds"}`.
    """
    protocol = get_protocol(name)
    evaluated = embeddings.split(split)
    if not len(evaluated):
        raise GtalignError(f"{name}: no videos with split {split!r} among {len(embeddings)} embedded videos")
    kwargs = {k: v for k, v in opts.items() if k in protocol.options}
    args = (embeddings.split("train"), evaluated) if protocol.uses_train else (evaluated,)
    start = time.perf_counter()
    numbers = protocol.run(*args, **kwargs)
    return {"numbers": numbers, "options": kwargs, "seconds": time.perf_counter() - start}


def run_protocols(embeddings: EmbeddingSet, names: list[str], split: str = "val", **opts: Any) -> dict[str, dict]:
    """Run several protocols on the same embeddings: `{name: run_protocol(...)}`.

    Every option must be taken by at least one of the protocols named.
    """
    protocols = [get_protocol(n) for n in names]
    known = {o for p in protocols for o in p.options}
    unknown = sorted(set(opts) - known)
    if unknown:
        raise GtalignError(f"option(s) {unknown} are taken by none of the protocols {names} "
                           f"(they take {sorted(known)})")
    return {p.name: run_protocol(embeddings, p.name, split, **opts) for p in protocols}
