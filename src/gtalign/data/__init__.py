"""Video datasets: the manifest format, readers of real dataset layouts, the synthetic generator, sampling.

The names below are imported on first use (`gtalign.lazy`), with every reader (they register themselves with
`open_source`, in this order; the catch-all folder reader is detected last).
"""
import importlib as _importlib

from gtalign.lazy import lazy_exports

_READERS = ("source", "tfrecord", "pennaction", "finegym", "folder")


def _register_readers() -> None:
    for name in _READERS:
        _importlib.import_module(f"{__name__}.{name}")


__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "gtalign.data.manifest": ["Manifest", "VideoEntry", "load_manifest", "save_manifest"],
    "gtalign.data.source": ["VideoSource", "available_sources", "open_source", "register_source"],
}, before=_register_readers)
