"""Speed of embedding a video file chunk by chunk: how many frames are decoded and how long it takes.

Writes a 300-frame 224 x 224 mp4 (a moving pattern) and embeds it with `ImagenetEncoder(image_size=112,
device="cpu")`, which reads the video through `iter_video_chunks` in chunks of 32 frames; also times the decoding
alone (`iter_video_chunks` without the network) and `read_display_frames` (the align/cam display frames).
Decoded frames are counted, and the time spent waiting on the decoder summed, by wrapping
`gtalign.data.video._decode`, the one place PyAV frames come from (it runs the same before and after streaming,
so the script measures either version of the library).

    python benchmarks/decode_speed.py [--frames 300] [--size 224] [--repeats 3] [--no-encode] [--threads N]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import machine_info

import gtalign.data.video as video
from gtalign.apps.encoders import ImagenetEncoder
from gtalign.apps.inputs import open_videos, read_display_frames
from gtalign.data.sampling import iter_video_chunks

DECODED = [0, 0.0]  # frames decoded, seconds spent in the decoder


def _counting(decode):
    def wrapped(*args, **kwargs):
        frames = decode(*args, **kwargs)
        while True:
            start = time.perf_counter()
            frame = next(frames, None)
            DECODED[1] += time.perf_counter() - start
            if frame is None:
                return
            DECODED[0] += 1
            yield frame

    return wrapped


def moving_pattern(frames: int, size: int) -> np.ndarray:
    """uint8 (frames, size, size, 3): smooth stripes drifting over time (compresses like real footage)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = np.arange(frames, dtype=np.float32)[:, None, None] / frames
    r = 127 + 120 * np.sin(2 * np.pi * (3 * x + 2 * t))
    g = 127 + 120 * np.sin(2 * np.pi * (2 * y - 3 * t))
    b = 127 + 120 * np.sin(2 * np.pi * (x + y + t))
    return np.stack([r, g, b], axis=-1).round().astype(np.uint8)


def timed(fn, repeats: int) -> tuple[float, float, int]:
    """Best wall time (s) over `repeats` runs, the best of them spent waiting on the decoder, and the frames decoded
    by one run."""
    wall, decoding = float("inf"), float("inf")
    for _ in range(repeats):
        DECODED[:] = [0, 0.0]
        start = time.perf_counter()
        fn()
        wall, decoding = min(wall, time.perf_counter() - start), min(decoding, DECODED[1])
    return wall, decoding, DECODED[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-encode", action="store_true", help="time the decoding rows only")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    video._decode = _counting(video._decode)
    print(machine_info())
    with tempfile.TemporaryDirectory() as tmp:
        path = video.write_video(Path(tmp) / "clip.mp4", moving_pattern(args.frames, args.size))
        source = open_videos([path])
        encoder = ImagenetEncoder(image_size=112, device="cpu")
        rows = [
            ("iter_video_chunks (chunk 32, decode + resize)",
             lambda: [f for _, f in iter_video_chunks(source, 0, 32, 0, 1, 112, "imagenet")]),
            ("read_display_frames (max side 480)", lambda: read_display_frames(source, 0, 480)),
            ("ImagenetEncoder(112 px, cpu).encode", lambda: encoder.encode(source, 0)),
        ][: 2 if args.no_encode else 3]
        print(f"{args.frames} frames of {args.size} px, torch threads {torch.get_num_threads()}, "
              f"best of {args.repeats}")
        print("| what | wall (best) | in the decoder (best) | frames decoded |")
        for name, fn in rows:
            wall, decoding, decoded = timed(fn, args.repeats)
            print(f"| {name} | {wall:.2f} s | {decoding:.2f} s | {decoded} |")


if __name__ == "__main__":
    main()
