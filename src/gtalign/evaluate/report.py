"""`gtalign report`: results files rendered as tables shaped like the supplement's (methods as rows, datasets and
settings as columns), one markdown table and one bar chart (PNG) per protocol."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gtalign.evaluate.registry import PROTOCOLS, get_protocol
from gtalign.io import atomic_path, atomic_write_text


@dataclass
class Table:
    """One protocol's headline numbers: `values[(method, column)]`, already scaled for display."""

    protocol: str
    title: str
    unit: str
    methods: list[str]
    columns: list[str]
    values: dict[tuple[str, str], float]

    def markdown(self) -> str:
        head = ["Method", *self.columns]
        lines = [f"### {self.title} ({self.protocol}; {self.unit})", "",
                 "| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * len(self.columns)) + "|"]
        for m in self.methods:
            cells = [_cell(self.values.get((m, c))) for c in self.columns]
            lines.append("| " + " | ".join([m, *cells]) + " |")
        return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def _column(dataset: str, setting: str) -> str:
    return f"{dataset} {setting}".strip()


def build_tables(records: list[dict]) -> list[Table]:
    """One `Table` per protocol, in registry order; a later record replaces an earlier one's cell."""
    tables: dict[str, Table] = {}
    for r in records:
        protocol = get_protocol(r["protocol"])
        table = tables.setdefault(protocol.name, Table(protocol.name, protocol.title, protocol.unit, [], [], {}))
        if r["method"] not in table.methods:
            table.methods.append(r["method"])
        for setting, value in protocol.summary(r["numbers"]).items():
            column = _column(r.get("dataset", ""), setting)
            if column not in table.columns:
                table.columns.append(column)
            table.values[(r["method"], column)] = float("nan") if value is None else value * protocol.scale
    return sorted(tables.values(), key=lambda t: list(PROTOCOLS).index(t.protocol))


def plot_table(table: Table, path: Path) -> Path:
    """A grouped bar chart of a table (one group per column, one bar per method), written atomically as PNG."""
    width = 0.8 / max(1, len(table.methods))
    x = np.arange(len(table.columns))
    fig = Figure(figsize=(max(4.0, 1.2 * len(table.columns) + 2), 3.5))
    ax = fig.subplots()
    for i, m in enumerate(table.methods):
        heights = [table.values.get((m, c), float("nan")) for c in table.columns]
        ax.bar(x + (i - (len(table.methods) - 1) / 2) * width, heights, width, label=m)
    crowded = len(table.columns) > 4 or max(map(len, table.columns), default=0) > 12
    ax.set_xticks(x, table.columns, rotation=30 if crowded else 0, ha="right" if crowded else "center")
    ax.set_ylabel(table.unit, fontsize="small")
    ax.set_title(table.title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    return path


def render_report(records: list[dict], out_dir: str | Path) -> Path:
    """Write `report.md` (every table) and `<protocol>.png` per protocol into `out_dir`; returns report.md."""
    out_dir = Path(out_dir)
    parts = ["# gtalign evaluation report", ""]
    for table in build_tables(records):
        png = plot_table(table, out_dir / f"{table.protocol}.png")
        parts += [table.markdown(), f"![{table.title}]({png.name})", ""]
    report = out_dir / "report.md"
    atomic_write_text(report, "\n".join(parts))
    return report
