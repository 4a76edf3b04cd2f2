"""Audio of video files: decode, re-time through an alignment, and mux with frames (PyAV)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

from gtalign.errors import GtalignError
from gtalign.io import atomic_path
from gtalign.viz.video import browser_codec


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """The first audio stream of a video file as float32 samples (C, S) and its sample rate."""
    path = Path(path)
    if path.is_dir():
        raise GtalignError(f"{path} is a frame folder; --audio needs a video file with an audio stream")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise GtalignError(f"cannot open {path}: {e}") from e
    with container:
        if not container.streams.audio:
            raise GtalignError(f"{path} has no audio stream to transfer")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=stream.layout.name if stream.layout else None,
                                      rate=stream.rate)
        chunks = [f.to_ndarray() for frame in container.decode(stream) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
        rate = int(stream.rate)
    if not chunks:
        raise GtalignError(f"the audio stream of {path} holds no samples")
    return np.concatenate(chunks, axis=1).astype(np.float32), rate


def retime_audio(samples: np.ndarray, rate: int, out_times: np.ndarray, source_times: np.ndarray,
                 duration: float) -> np.ndarray:
    """Audio on a new timeline: output time t plays the source at time interp(t, out_times, source_times).

    samples: (C, S) at `rate`; out_times, source_times: (K,) matching knots in seconds (out_times increasing);
    returns (C, round(duration * rate)) float32 (linear interpolation between source samples).
    """
    t = np.arange(int(round(duration * rate))) / rate
    src = np.interp(t, out_times, source_times) * rate
    positions = np.arange(samples.shape[1])
    return np.stack([np.interp(src, positions, channel, left=0.0, right=0.0) for channel in samples]).astype(
        np.float32)


def write_video_with_audio(frames: np.ndarray, fps: float, samples: np.ndarray, rate: int, out: str | Path) -> Path:
    """Encode uint8 frames (T, H, W, 3) with browser-playable video and AAC audio (C, S) into an mp4 atomically."""
    codec, _ = browser_codec()
    h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    layout = {1: "mono", 2: "stereo"}.get(samples.shape[0])
    if layout is None:
        samples, layout = samples[:2], "stereo"
    with atomic_path(out) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            video = cast(av.VideoStream, container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001)))
            video.width, video.height, video.pix_fmt = w, h, "yuv420p"
            audio = container.add_stream("aac", rate=rate, layout=layout)
            for image in frames[:, :h, :w]:
                container.mux(video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")))
            container.mux(video.encode())
            block = 1024
            for start in range(0, samples.shape[1], block):
                chunk = np.ascontiguousarray(samples[:, start:start + block], dtype=np.float32)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                frame.sample_rate, frame.pts = rate, start
                container.mux(audio.encode(frame))
            container.mux(audio.encode())
    return Path(out)
