"""The demo's comparison table in the shape of the supplement's Table 1: methods as rows, protocols as columns.

Each cell is the mean over seeds (and the sample standard deviation when there are several), in the units of
`gtalign report`: accuracies, R^2, Kendall's tau and AP@K times 100; alignment errors in frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gtalign.evaluate.registry import get_protocol
from gtalign.evaluate.table import Column, Row, Table

SHORT = {"svm": "SVM", "fewshot": "few-shot", "progression": "progress R2", "kendall": "Kendall tau",
         "retrieval": "retrieval", "alignment": "align"}
LOWER = " ↓"  # marks a column where lower is better (errors in frames)
PAIR = "pair"  # the held-out pair's alignment errors


@dataclass(frozen=True)
class Measure(Column):
    """A column of the comparison and where its values come from: a protocol's headline setting (the
    `gtalign.evaluate` registry's summary) times `scale`, or the held-out pair's error (`protocol` PAIR)."""

    protocol: str = ""
    setting: str = ""
    scale: float = 1.0


def _columns_of(protocol: str, numbers: dict[str, Any]) -> list[Measure]:
    p = get_protocol(protocol)
    out = []
    for setting in p.summary(numbers):
        lower = "error" in setting or "mae" in setting  # the alignment protocol's errors in frames
        header = f"{SHORT.get(protocol, protocol)} {setting}".strip()
        out.append(Measure(header + (LOWER if lower else ""), lower, protocol, setting, p.scale))
    return out


def columns(results: list[dict[str, Any]]) -> list[Measure]:
    """The columns of the table, in protocol order, then the held-out pair's errors."""
    scored = {name: run["numbers"] for r in results for name, run in r["protocols"].items() if "numbers" in run}
    if not scored:
        return []
    order = list(dict.fromkeys(name for r in results for name in r["protocols"]))
    cols = [c for name in order if name in scored for c in _columns_of(name, scored[name])]
    return cols + [Measure(f"{PAIR} {kind.upper()} error{LOWER}", True, PAIR, kind) for kind in ("nn", "dtw")]


def value(result: dict[str, Any], column: Measure) -> float:
    """The displayed value of `column` in one result record (NaN when it is missing)."""
    if column.protocol == PAIR:
        return float(result["pair"][column.setting]["mae_frames"])
    run = result["protocols"].get(column.protocol)
    if run is None or "numbers" not in run:  # not run, or it could not score these embeddings
        return math.nan
    v = get_protocol(column.protocol).summary(run["numbers"]).get(column.setting)
    return math.nan if v is None else float(v) * column.scale


def rows(results: list[dict[str, Any]], cols: list[Measure]) -> list[Row]:
    """One row per method, in order of first appearance, with one value per seed."""
    out: dict[str, Row] = {}
    for r in results:
        row = out.setdefault(r["method"], Row(r["method"], r["label"], {}))
        for c in cols:
            row.values.setdefault(c.header, []).append(value(r, c))
    return list(out.values())


def comparison(results: list[dict[str, Any]], exclude_from_best: tuple[str, ...] = ()) -> Table:
    """The comparison of `results` (records of `run_job`): mean ± std over seeds, the best value per column among
    rows not in `exclude_from_best` in bold."""
    cols = columns(results)
    return Table("demo", list(cols), rows(results, cols), best_excluding=tuple(exclude_from_best))


def per_protocol(results: list[dict[str, Any]]) -> list[Table]:
    """One table per protocol (its settings as columns, no held-out pair), for the bar charts."""
    cols = columns(results)
    table_rows = rows(results, cols)
    out = []
    for protocol in dict.fromkeys(c.protocol for c in cols if c.protocol != PAIR):
        p = get_protocol(protocol)
        mine = [c for c in cols if c.protocol == protocol]
        out.append(Table(protocol, [Column(c.setting or p.name) for c in mine],
                         [Row(r.key, r.label, {c.setting or p.name: r.values[c.header] for c in mine})
                          for r in table_rows], title=p.title, unit=p.unit))
    return out
