"""Pictures and videos of alignments: cost-matrix plots, side-by-side videos, CAM overlays, contact sheets and the
synchronized HTML viewer. Plain arrays in, files or uint8 images out; nothing here knows about models."""
from gtalign.viz.alignment import plot_alignment
from gtalign.viz.cam import cam_maps, overlay
from gtalign.viz.progress import plot_progress
from gtalign.viz.sheet import contact_sheet
from gtalign.viz.video import write_browser_video, write_side_by_side
from gtalign.viz.viewer import write_viewer

__all__ = ["cam_maps", "contact_sheet", "overlay", "plot_alignment", "plot_progress", "write_browser_video",
           "write_side_by_side", "write_viewer"]
