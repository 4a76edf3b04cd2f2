"""Video datasets: the manifest format, readers of real dataset layouts, the synthetic generator, sampling.

Every reader registers itself with `open_source` when imported, in the order below (the catch-all folder reader
is detected last).
"""
from gtalign.data import finegym, folder, pennaction, tfrecord  # noqa: F401 - readers register themselves
from gtalign.data.manifest import Manifest, VideoEntry, load_manifest, save_manifest
from gtalign.data.source import VideoSource, available_sources, open_source, register_source

__all__ = ["Manifest", "VideoEntry", "VideoSource", "available_sources", "load_manifest", "open_source",
           "register_source", "save_manifest"]
