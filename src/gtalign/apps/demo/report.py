"""The demo's report: `table.md` (the comparison), one bar chart per protocol, `summary.json` and `report.html`.

`report.html` needs no network: styles are inline, images and videos are files next to it (relative links).
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from gtalign.apps.demo import table
from gtalign.apps.demo.settings import REFERENCES
from gtalign.apps.demo.showcase import Showcase
from gtalign.io import atomic_write_text, write_json

STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 6px}
td{text-align:right}caption{text-align:left;font-weight:bold;padding:4px 0}img,video{max-width:100%}
.figs{display:flex;flex-wrap:wrap;gap:12px}.figs figure{margin:0;flex:1 1 360px}.note{color:#555}"""


def caption(run, results: list[dict[str, Any]]) -> str:
    """What the table was measured on: synthetic data, seeds, steps, trunk."""
    d = run.settings.dataset
    steps = max((r["steps"] for r in results), default=0)
    return (f"Synthetic data, {d.difficulty} (gtalign synth: {d.num_classes} actions x {d.videos_per_class} videos, "
            f"{d.min_frames}-{d.max_frames} frames, {d.image_size} px, data seed {d.seed}); every method "
            f"{steps} training steps, same network and data; seeds {sorted({r['seed'] for r in results})}, "
            f"mean ± std over seeds; {run.trunk}. Bold: best trained method. Accuracy, R2, tau and AP x 100; "
            f"errors in frames (↓: lower is better); pair: the two held-out videos of the report. "
            f"Not comparable with the paper's FineGym/PennAction numbers.")


def protocol_plots(results: list[dict[str, Any]], out_dir: Path) -> list[str]:
    """One grouped bar chart per protocol (mean over seeds), `plot_<protocol>.png`; returns the file names."""
    return [t.plot(out_dir / f"plot_{t.name}.png").name for t in table.per_protocol(results)]


def _figure(src: str, text: str) -> str:
    return (f'<figure><img src="{html.escape(src, quote=True)}" alt="{html.escape(text, quote=True)}">'
            f"<figcaption>{html.escape(text)}</figcaption></figure>")


def _showcase_html(show: Showcase) -> str:
    a, b = (html.escape(x) for x in show.pair)
    parts = [f"<h2>Two held-out videos put in sync</h2><p>{a} and {b} (validation videos, never trained on).</p>",
             '<div class="figs">' + "".join(_figure(png, text) for text, png in show.alignment) + "</div>",
             f'<h3>Side by side (B re-timed to A)</h3><video src="{html.escape(show.side_by_side, quote=True)}" '
             f'controls loop muted></video>',
             f'<p><a href="{html.escape(show.viewer, quote=True)}">Synchronized viewer</a> (plays '
             f'{html.escape(show.video_a)} and {html.escape(show.video_b)} in sync).</p>']
    if show.cam_sheet:
        parts.append("<h3>CAM (supplement Sec. 7)</h3>" + _figure(show.cam_sheet, f"frames of {a} and their CAM"))
    return "\n".join(parts)


def write_report(run, showcase: Showcase | None, seconds: float) -> Path:
    """Write table.md, summary.json, the plots and report.html into `run.out_dir`; returns report.html."""
    out = run.out_dir
    results = run.results
    text = caption(run, results)
    comparison = table.comparison(results, exclude_from_best=tuple(m.key for m in REFERENCES))
    atomic_write_text(out / "table.md", comparison.markdown(text))
    write_json(out / "summary.json", {"format": "gtalign-demo-summary", "settings": run.settings.to_dict(),
                                      "trunk": run.trunk, "seeds": run.seeds, "wall_seconds": seconds,
                                      "results": results})
    plots = protocol_plots(results, out)
    body = [f"<h1>gtalign demo ({html.escape(run.settings.name)})</h1>",
            f'<p class="note">Wall time {seconds / 60:.1f} min. Each row is one loss trained on the same network '
            f"and data with the same budget, evaluated by the same protocols (docs/evaluation.md).</p>",
            comparison.html(text),
            "<h2>Per protocol</h2>", '<div class="figs">' + "".join(_figure(p, p) for p in plots) + "</div>"]
    if showcase is not None:
        body.append(_showcase_html(showcase))
    body.append(f"<h2>Raw numbers</h2><pre>{html.escape(json.dumps(_brief(results), indent=1))}</pre>")
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>gtalign demo</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    path = out / "report.html"
    atomic_write_text(path, page)
    return path


def _brief(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (method, seed): the loss, the seconds and the held-out pair's scores (the full numbers are in
    summary.json)."""
    return [{"method": r["method"], "seed": r["seed"], "loss": r["loss"], "steps": r["steps"],
             "seconds": {k: round(v, 1) for k, v in r["seconds"].items()}, "pair": r["pair"]} for r in results]
