"""Video datasets: the manifest format, readers of real dataset layouts, the synthetic generator, sampling."""
from gtalign.data.manifest import Manifest, VideoEntry, load_manifest, save_manifest
from gtalign.data.source import VideoSource, available_sources, open_source, register_source

# Readers register themselves with open_source; the catch-all folder reader is detected last.
from gtalign.data import tfrecord, pennaction, finegym, folder  # noqa: E402,F401  isort: skip

__all__ = ["Manifest", "VideoEntry", "VideoSource", "available_sources", "load_manifest", "open_source",
           "register_source", "save_manifest"]
