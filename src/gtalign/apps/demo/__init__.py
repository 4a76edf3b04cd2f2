"""`gtalign demo`: GTA and the baselines trained and compared on synthetic videos, and two videos put in sync.

`demo(load_settings("quick"), "demo_out")` runs everything and returns `(DemoRun, report.html)`; each
(method, seed) is cached in the output folder, so an interrupted run continues where it stopped.
"""
from gtalign.apps.demo.pipeline import DemoRun, demo, run_demo
from gtalign.apps.demo.settings import DemoSettings, load_settings, quick_settings

__all__ = ["DemoRun", "DemoSettings", "demo", "load_settings", "quick_settings", "run_demo"]
