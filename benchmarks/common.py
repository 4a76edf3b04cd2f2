"""Shared helpers for the benchmarks: what machine a number was measured on, timing, markdown tables.

Usage from a benchmark script in this folder::

    from common import machine_info, median_ms, write_table
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """CPU model, core count, thread settings, load and library versions, for the header of a result table."""
    import numpy
    import torch

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
    try:
        import numba

        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
    except ImportError:  # pragma: no cover - numba is a dependency
        pass
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def set_threads(threads: int) -> None:
    """Use ``threads`` threads in torch and numba (numba's pool size is fixed at import; this caps its use)."""
    import torch

    torch.set_num_threads(threads)
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # pragma: no cover
        pass


def median_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock time of ``fn()`` in milliseconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def interleaved_ms(fns: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1,
                   stat: Callable[[list[float]], float] = statistics.median) -> dict[str, float]:
    """``stat`` (median by default) of the wall-clock times of every ``fns[name]()`` in milliseconds, the runs
    interleaved (one of each per round) so that a busy moment on a shared machine hits every method alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: stat(t) for name, t in times.items()}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; numbers are right-aligned."""
    def cell(value: object) -> str:
        return "" if value is None else str(value)

    numeric = [all(isinstance(r[c], (int, float)) or r[c] is None for r in rows) for c in range(len(header))]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine_line(machine: dict) -> str:
    """One line describing the machine, for under a table title."""
    return "Measured on: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + "."


def write_table(path: str | os.PathLike, title: str, header: Sequence[str], rows: Sequence[Sequence[object]],
                machine: dict, notes: str = "") -> str:
    """Write a markdown file (atomically) with a title, the machine, the table and optional notes; return it."""
    from gtalign.io import atomic_write_text

    text = f"## {title}\n\n{machine_line(machine)}\n\n{markdown_table(header, rows)}"
    if notes:
        text += "\n" + notes.strip() + "\n"
    atomic_write_text(path, text)
    return text


def update_section(path: str | os.PathLike, name: str, text: str) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in a markdown file (appending
    the marked section when it is not there yet), atomically; the rest of the file is left as it is."""
    from gtalign.io import atomic_write_text

    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    p = Path(path)
    old = p.read_text(encoding="utf-8") if p.is_file() else ""
    block = f"{begin}\n{text.strip()}\n{end}"
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + block + "\n"
    atomic_write_text(p, new)


def publish(text: str, section: str, write_docs: bool = True, doc: str = "docs/results.md") -> None:
    """Print a benchmark's markdown and, with `write_docs`, put it into `doc` (a path from the repository root) as
    section `section`."""
    print(text)
    if write_docs:
        update_section(Path(__file__).resolve().parent.parent / doc, section, text)
