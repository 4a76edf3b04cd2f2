"""`benchmarks/synth_probe.py`: the probe learns the time where the features show it and not where they do not,
and its rows are scored by the demo's own alignment protocol."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synth_probe import BINS, alignment_error, probe_features, time_bins  # noqa: E402

from gtalign.apps.demo.embed_cached import frame_time  # noqa: E402
from gtalign.data import VideoEntry  # noqa: E402
from gtalign.data.synth import sample_spec  # noqa: E402


def _entries(count: int = 12) -> list[VideoEntry]:
    """Hard synthetic timelines of one class (no frames rendered): the first 6 train, the rest val."""
    out = []
    for i in range(count):
        spec = sample_spec(0, 0, i, 30, 50, 32, "hard")
        out.append(VideoEntry(id=f"v{i}", path=Path(f"v{i}"), class_name="squat", split="train" if i < 6 else "val",
                              num_frames=spec.num_frames, meta=spec.to_meta()))
    return out


def test_time_bins_cover_zero_to_one():
    assert time_bins(np.array([0.0, 0.05, 0.1, 0.55, 0.999, 1.0])).tolist() == [0, 0, 1, 5, 9, 9]
    assert time_bins(np.array([1.0]), 4).tolist() == [3]


def test_a_probe_of_features_that_show_the_time_beats_a_clock_and_one_of_noise_does_not():
    entries = _entries()
    rng = np.random.default_rng(0)

    def showing(e: VideoEntry) -> np.ndarray:  # the canonical time, one-hot in 40 bins, plus a little noise
        u = np.asarray(e.meta["canonical_time"])
        return np.eye(40)[np.minimum((u * 40).astype(int), 39)] + 0.05 * rng.normal(size=(len(u), 40))

    noise = {e.id: rng.normal(size=(e.num_frames, 40)) for e in entries}
    clock = alignment_error(entries, lambda e: frame_time(e.num_frames))
    seen = probe_features(entries, showing)
    blind = probe_features(entries, lambda e: noise[e.id])
    assert set(seen) == {e.id for e in entries if e.split == "val"}
    assert all(p.shape == (e.num_frames, BINS) for e in entries if e.id in seen for p in [seen[e.id]])
    assert alignment_error(entries, lambda e: seen[e.id]) < 0.5 * clock
    assert alignment_error(entries, lambda e: blind[e.id]) > clock
