"""The protocol registry: each protocol is registered once with how to call it and how to summarize it.

The CLI, `run_protocols` and the report look protocols up here by name, so none of them grows an if-chain.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from gtalign.data.embeddings import EmbeddingSet
from gtalign.errors import GtalignError
from gtalign.evaluate.alignment import AlignmentResult, evaluate_alignment
from gtalign.evaluate.classify import FewShotResult, SvmResult, evaluate_fewshot, evaluate_svm
from gtalign.evaluate.kendall import KendallResult, evaluate_kendall
from gtalign.evaluate.progression import ProgressionResult, evaluate_progression
from gtalign.evaluate.protocol_result import ProtocolResult, jsonable
from gtalign.evaluate.retrieval import RetrievalResult, evaluate_retrieval
from gtalign.registry import Registry


@dataclass(frozen=True)
class Protocol:
    """How to run one protocol and read its results.

    `run(train, val, **opts)` (or `run(val, **opts)` when `uses_train` is False) returns a `result` instance;
    `summary(numbers)` gives the headline values of stored numbers by setting (a column of a report table, "" for
    a single one); the report shows values times `scale`, in `unit`.
    """

    name: str
    run: Callable[..., ProtocolResult]
    uses_train: bool
    result: type[ProtocolResult]
    title: str
    unit: str
    scale: float = 100.0

    @property
    def options(self) -> list[str]:
        """Keyword options `run` accepts."""
        params = list(inspect.signature(self.run).parameters.values())
        return [p.name for p in params[2 if self.uses_train else 1:]]

    def summary(self, numbers: Mapping[str, Any]) -> dict[str, float | None]:
        """The headline values of the numbers stored in a results file (`result.to_json()`)."""
        return self.result.from_json(numbers).summary()


@dataclass(frozen=True)
class ProtocolRun:
    """One protocol run: its typed `result`, the options it was called with and its wall time."""

    result: ProtocolResult
    options: dict[str, Any]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """`{"numbers", "options", "seconds"}`, as stored by the demo."""
        return {"numbers": self.result.to_json(), "options": jsonable(self.options), "seconds": self.seconds}


PROTOCOLS: Registry = Registry("protocol", {p.name: p for p in (
    Protocol("svm", evaluate_svm, True, SvmResult, "Fine-grained action recognition (linear SVM)",
             "per-frame accuracy, %"),
    Protocol("fewshot", evaluate_fewshot, True, FewShotResult, "Few-shot phase classification",
             "per-frame accuracy, %, mean over episodes"),
    Protocol("progression", evaluate_progression, True, ProgressionResult, "Phase progression", "R^2 x 100"),
    Protocol("kendall", evaluate_kendall, False, KendallResult, "Video synchronization", "Kendall's tau x 100"),
    Protocol("retrieval", evaluate_retrieval, True, RetrievalResult, "Fine-grained frame retrieval", "AP@K, %"),
    Protocol("alignment", evaluate_alignment, False, AlignmentResult, "Alignment to ground-truth warps",
             "error in frames; Kendall's tau", scale=1.0),
)})


def available() -> list[str]:
    """Names of the registered protocols."""
    return list(PROTOCOLS)


def get_protocol(name: str) -> Protocol:
    return PROTOCOLS[name]


def run_protocol(embeddings: EmbeddingSet, name: str, split: str = "val", **opts: Any) -> ProtocolRun:
    """Run one protocol on `embeddings` (training videos: split "train"; evaluated: `split`).

    Options the protocol does not take are ignored.
    """
    protocol = get_protocol(name)
    evaluated = embeddings.split(split)
    if not len(evaluated):
        raise GtalignError(f"{name}: no videos with split {split!r} among {len(embeddings)} embedded videos")
    kwargs = {k: v for k, v in opts.items() if k in protocol.options}
    args = (embeddings.split("train"), evaluated) if protocol.uses_train else (evaluated,)
    start = time.perf_counter()
    result = protocol.run(*args, **kwargs)
    return ProtocolRun(result, kwargs, time.perf_counter() - start)


def run_protocols(embeddings: EmbeddingSet, names: list[str], split: str = "val",
                  **opts: Any) -> dict[str, ProtocolRun]:
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
