"""`gtalign demo`: GTA and the baselines trained and compared on synthetic videos, and two videos put in sync.

`demo(load_settings("quick"), "demo_out")` runs everything and returns `(DemoRun, report.html)`; each
(method, seed) is cached in the output folder, so an interrupted run continues where it stopped.
The names below are imported on first use (`gtalign.lazy`).
"""
from gtalign.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "gtalign.apps.demo.pipeline": ["DemoRun", "demo", "run_demo"],
    "gtalign.apps.demo.settings": ["DemoSettings", "load_settings", "quick_settings"],
})
