"""The demo's comparison table in the shape of the supplement's Table 1: methods as rows, protocols as columns.

Each cell is the mean over seeds (and the sample standard deviation when there are several), in the units of
`gtalign report`: accuracies, R^2, Kendall's tau and AP@K times 100; alignment errors in frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from gtalign.evaluate.registry import get_protocol

SHORT = {"svm": "SVM", "fewshot": "few-shot", "progression": "progress R2", "kendall": "Kendall tau",
         "retrieval": "retrieval", "alignment": "align"}
LOWER = " ↓"  # marks a column where lower is better (errors in frames)
PAIR = "pair"  # the held-out pair's alignment errors


@dataclass(frozen=True)
class Column:
    """One column: a protocol's headline setting (`gtalign.evaluate` registry summary), how to show it."""

    protocol: str
    setting: str
    header: str
    scale: float
    lower_is_better: bool


def _columns_of(protocol: str, numbers: dict[str, Any]) -> list[Column]:
    p = get_protocol(protocol)
    out = []
    for setting in p.summary(numbers):
        lower = "error" in setting or "mae" in setting  # the alignment protocol's errors in frames
        header = f"{SHORT.get(protocol, protocol)} {setting}".strip()
        out.append(Column(protocol, setting, header + (LOWER if lower else ""), p.scale, lower))
    return out


def columns(results: list[dict[str, Any]]) -> list[Column]:
    """The columns of the table, in protocol order, then the held-out pair's errors."""
    scored = {name: run["numbers"] for r in results for name, run in r["protocols"].items() if "numbers" in run}
    if not scored:
        return []
    order = list(dict.fromkeys(name for r in results for name in r["protocols"]))
    cols = [c for name in order if name in scored for c in _columns_of(name, scored[name])]
    return cols + [Column(PAIR, kind, f"{PAIR} {kind.upper()} error{LOWER}", 1.0, True) for kind in ("nn", "dtw")]


def value(result: dict[str, Any], column: Column) -> float:
    """The displayed value of `column` in one result record (NaN when it is missing)."""
    if column.protocol == PAIR:
        return float(result["pair"][column.setting]["mae_frames"])
    run = result["protocols"].get(column.protocol)
    if run is None or "numbers" not in run:  # not run, or it could not score these embeddings
        return math.nan
    v = get_protocol(column.protocol).summary(run["numbers"]).get(column.setting)
    return math.nan if v is None else float(v) * column.scale


@dataclass
class Row:
    """One method's values per column, one per seed."""

    key: str
    label: str
    values: dict[str, list[float]]

    def mean(self, column: Column) -> float:
        v = self.values.get(column.header, [])
        return float(np.mean(v)) if v else math.nan

    def std(self, column: Column) -> float:
        v = self.values.get(column.header, [])
        return float(np.std(v, ddof=1)) if len(v) > 1 else math.nan


def rows(results: list[dict[str, Any]], cols: list[Column]) -> list[Row]:
    """One row per method, in order of first appearance."""
    out: dict[str, Row] = {}
    for r in results:
        row = out.setdefault(r["method"], Row(r["method"], r["label"], {}))
        for c in cols:
            row.values.setdefault(c.header, []).append(value(r, c))
    return list(out.values())


def _cell(row: Row, column: Column) -> str:
    mean, std = row.mean(column), row.std(column)
    if math.isnan(mean):
        return "-"
    return f"{mean:.2f}" + ("" if math.isnan(std) else f" ± {std:.2f}")


def best_rows(table_rows: list[Row], column: Column, exclude: tuple[str, ...] = ()) -> set[str]:
    """Keys of the rows with the best mean in `column` (ties included), among rows not in `exclude`."""
    means = {r.key: r.mean(column) for r in table_rows if r.key not in exclude and not math.isnan(r.mean(column))}
    if not means:
        return set()
    target = min(means.values()) if column.lower_is_better else max(means.values())
    return {k for k, v in means.items() if v == target}


@dataclass
class Grid:
    """The table as text cells: `headers` (one per column), `body[i] = (label, cells, bold flags)`."""

    headers: list[str]
    body: list[tuple[str, list[str], list[bool]]]

    def markdown(self, caption: str) -> str:
        lines = [caption, "", "| Method | " + " | ".join(self.headers) + " |", "|---|" + "---:|" * len(self.headers)]
        for label, cells, bold in self.body:
            shown = [f"**{c}**" if b else c for c, b in zip(cells, bold)]
            lines.append(f"| {label} | " + " | ".join(shown) + " |")
        return "\n".join(lines) + "\n"

    def html(self, caption: str) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in ["Method", *self.headers])
        body = []
        for label, cells, bold in self.body:
            tds = "".join(f"<td><b>{escape(c)}</b></td>" if b else f"<td>{escape(c)}</td>" for c, b in zip(cells, bold))
            body.append(f"<tr><th>{escape(label)}</th>{tds}</tr>")
        return (f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


def grid(results: list[dict[str, Any]], exclude_from_best: tuple[str, ...] = ()) -> Grid:
    """The table of `results` (records of `run_job`); the best value per column among rows not in
    `exclude_from_best` is flagged bold."""
    cols = columns(results)
    table_rows = rows(results, cols)
    best = {c.header: best_rows(table_rows, c, exclude_from_best) for c in cols}
    return Grid([c.header for c in cols],
                [(r.label, [_cell(r, c) for c in cols], [r.key in best[c.header] for c in cols]) for r in table_rows])
