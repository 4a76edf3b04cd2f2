"""One table model for every comparison gtalign prints: methods as rows, settings as columns, and per cell one
value per run (seed), shown as the mean and, with several runs, the sample standard deviation.

`gtalign report` builds one `Table` per protocol from results files; `gtalign demo` builds its Table-1-shaped
comparison from its runs. Both render with `markdown(caption)` and `html(caption)`, and plot with `plot(path)`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gtalign.io import atomic_path


@dataclass(frozen=True)
class Column:
    """A column: its header and whether a lower value is better (errors in frames), for the bold best cell."""

    header: str
    lower_is_better: bool = False


@dataclass
class Row:
    """One method: `values[header]` holds one value per run (NaN where a run has none)."""

    key: str
    label: str
    values: dict[str, list[float]] = field(default_factory=dict)

    def mean(self, column: Column) -> float:
        """The mean over runs of the column's values (NaN when there are none)."""
        v = self.values.get(column.header, [])
        return float(np.mean(v)) if v else math.nan

    def std(self, column: Column) -> float:
        """The sample standard deviation over runs (NaN for fewer than two)."""
        v = self.values.get(column.header, [])
        return float(np.std(v, ddof=1)) if len(v) > 1 else math.nan

    def cell(self, column: Column) -> str:
        """`mean`, `mean ± std` with several runs, `-` when undefined; two decimals."""
        mean, std = self.mean(column), self.std(column)
        if math.isnan(mean):
            return "-"
        return f"{mean:.2f}" + ("" if math.isnan(std) else f" ± {std:.2f}")


@dataclass
class Table:
    """Rows and columns of values; `best_excluding`, when set, marks the best mean per column in bold among the
    rows whose keys it does not name (reference rows). `name`, `title` and `unit` say what it shows (the plot's
    title and axis)."""

    name: str = ""
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    title: str = ""
    unit: str = ""
    best_excluding: tuple[str, ...] | None = None

    def column(self, header: str, lower_is_better: bool = False) -> Column:
        """The column named `header`, added at the end if new."""
        for c in self.columns:
            if c.header == header:
                return c
        self.columns.append(Column(header, lower_is_better))
        return self.columns[-1]

    def row(self, key: str, label: str | None = None) -> Row:
        """The row of `key`, added at the end if new (labelled `label`, default the key)."""
        for r in self.rows:
            if r.key == key:
                return r
        self.rows.append(Row(key, key if label is None else label))
        return self.rows[-1]

    def best(self, column: Column) -> set[str]:
        """Keys of the rows with the best mean in `column` (ties included); none unless `best_excluding` is set."""
        if self.best_excluding is None:
            return set()
        means = {r.key: r.mean(column) for r in self.rows
                 if r.key not in self.best_excluding and not math.isnan(r.mean(column))}
        if not means:
            return set()
        target = min(means.values()) if column.lower_is_better else max(means.values())
        return {k for k, v in means.items() if v == target}

    def body(self) -> list[tuple[str, list[str], list[bool]]]:
        """Per row: its label, its cells as text and which of them are the best of their column."""
        best = [self.best(c) for c in self.columns]
        return [(r.label, [r.cell(c) for c in self.columns], [r.key in b for b in best]) for r in self.rows]

    def markdown(self, caption: str) -> str:
        """A markdown table after a caption line."""
        lines = [caption, "", "| Method | " + " | ".join(c.header for c in self.columns) + " |",
                 "|---|" + "---:|" * len(self.columns)]
        for label, cells, bold in self.body():
            shown = [f"**{c}**" if b else c for c, b in zip(cells, bold)]
            lines.append(f"| {label} | " + " | ".join(shown) + " |")
        return "\n".join(lines) + "\n"

    def html(self, caption: str) -> str:
        """An HTML table with a caption; every string escaped."""
        head = "".join(f"<th>{escape(h)}</th>" for h in ["Method", *(c.header for c in self.columns)])
        body = []
        for label, cells, bold in self.body():
            tds = "".join(f"<td><b>{escape(c)}</b></td>" if b else f"<td>{escape(c)}</td>" for c, b in zip(cells, bold))
            body.append(f"<tr><th>{escape(label)}</th>{tds}</tr>")
        return (f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")

    def plot(self, path: str | Path) -> Path:
        """A grouped bar chart of the means (one group per column, one bar per row), written atomically as PNG."""
        path = Path(path)
        headers = [c.header for c in self.columns]
        width = 0.8 / max(1, len(self.rows))
        x = np.arange(len(headers))
        fig = Figure(figsize=(max(4.0, 1.2 * len(headers) + 2), 3.5))
        ax = fig.subplots()
        for i, r in enumerate(self.rows):
            ax.bar(x + (i - (len(self.rows) - 1) / 2) * width, [r.mean(c) for c in self.columns], width,
                   label=r.label)
        crowded = len(headers) > 4 or max(map(len, headers), default=0) > 12
        ax.set_xticks(x, headers, rotation=30 if crowded else 0, ha="right" if crowded else "center")
        ax.set_ylabel(self.unit, fontsize="small")
        ax.set_title(self.title)
        ax.legend(fontsize="small")
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        return path
