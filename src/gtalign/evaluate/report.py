"""`gtalign report`: results files rendered as tables shaped like the supplement's (methods as rows, datasets and
settings as columns), one markdown table and one bar chart (PNG) per protocol."""
from __future__ import annotations

from pathlib import Path

from gtalign.evaluate.registry import PROTOCOLS, get_protocol
from gtalign.evaluate.table import Table
from gtalign.io import atomic_write_text


def _column(dataset: str, setting: str) -> str:
    return f"{dataset} {setting}".strip()


def build_tables(records: list[dict]) -> list[Table]:
    """One table per protocol (named after it), in registry order: methods as rows, `<dataset> <setting>` as
    columns, headline numbers scaled for display; a later record replaces an earlier one's cell."""
    tables: dict[str, Table] = {}
    for r in records:
        protocol = get_protocol(r["protocol"])
        table = tables.setdefault(protocol.name, Table(protocol.name, title=protocol.title, unit=protocol.unit))
        row = table.row(r["method"])
        for setting, value in protocol.summary(r["numbers"]).items():
            column = table.column(_column(r.get("dataset", ""), setting))
            row.values[column.header] = [float("nan") if value is None else value * protocol.scale]
    return sorted(tables.values(), key=lambda t: list(PROTOCOLS).index(t.name))


def heading(table: Table) -> str:
    """A report table's heading: `### title (protocol; unit)`."""
    return f"### {table.title} ({table.name}; {table.unit})"


def render_report(records: list[dict], out_dir: str | Path) -> Path:
    """Write `report.md` (every table) and `<protocol>.png` per protocol into `out_dir`; returns report.md."""
    out_dir = Path(out_dir)
    parts = ["# gtalign evaluation report", ""]
    for table in build_tables(records):
        png = table.plot(out_dir / f"{table.name}.png")
        parts += [table.markdown(heading(table)), f"![{table.title}]({png.name})", ""]
    report = out_dir / "report.md"
    atomic_write_text(report, "\n".join(parts))
    return report
