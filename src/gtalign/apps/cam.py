"""`gtalign cam`: what the representation looks at (supplement Sec. 7), as a video and a contact sheet."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gtalign.apps.encoders import FrameEncoder
from gtalign.apps.inputs import read_display_frames
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from gtalign.io import atomic_save_npy
from gtalign.viz.cam import cam_maps, overlay
from gtalign.viz.sheet import contact_sheet, save_image
from gtalign.viz.video import write_browser_video


def video_cam(encoder: FrameEncoder, source: VideoSource, i: int, max_side: int = 480
              ) -> tuple[np.ndarray, np.ndarray]:
    """(frames uint8 (T, H, W, 3), maps float32 (T, H, W) in [0, 1]) of video i at display size."""
    frames = read_display_frames(source, i, max_side)
    features = encoder.conv_maps(source, i)
    if len(features) != len(frames):
        raise GtalignError(f"the encoder gave maps for {len(features)} frames of {source.entries[i].id}, "
                           f"which has {len(frames)}")
    return frames, cam_maps(features, size=frames.shape[1:3])


def write_cam(encoder: FrameEncoder, source: VideoSource, i: int, out_dir: str | Path, sheet_frames: int = 8,
              alpha: float = 0.5, max_side: int = 480) -> dict[str, str]:
    """Write `cam.mp4` (every frame overlaid), `cam_sheet.png` (`sheet_frames` evenly spaced frames) and
    `cam_maps.npy` (T, H, W) into `out_dir`; returns the paths written."""
    out = Path(out_dir)
    frames, maps = video_cam(encoder, source, i, max_side)
    blended = overlay(frames, maps, alpha=alpha)
    video = write_browser_video(blended, out / "cam.mp4", source.entries[i].fps)
    picks = np.unique(np.linspace(0, len(frames) - 1, max(1, sheet_frames)).round().astype(int))
    sheet = contact_sheet([blended[j] for j in picks], cols=min(4, len(picks)),
                          captions=[f"frame {j}" for j in picks])
    png = save_image(sheet, out / "cam_sheet.png")

    atomic_save_npy(out / "cam_maps.npy", maps.astype(np.float16))
    return {"video": str(video), "sheet": str(png), "maps": str(out / "cam_maps.npy")}
