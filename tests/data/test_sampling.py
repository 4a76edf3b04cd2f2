"""Clip sampling, the clip dataset, collation and whole-video chunks, on an in-memory source whose frame j is
filled with the value j (so every output frame says which frame it came from)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gtalign.data.augment import VideoAugment
from gtalign.data.manifest import Manifest, VideoEntry
from gtalign.data.sampling import (
    ClipDataset,
    ClipSampler,
    collate_clips,
    context_indices,
    iter_video_chunks,
    load_frames,
)
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError


class CountingSource(VideoSource):
    """Videos of the given lengths; frame j of any video is a constant image of value j; reads are recorded."""

    def __init__(self, lengths, labelled=True, size=8):
        entries = [VideoEntry(id=f"v{i}", path=Path(f"v{i}"), num_frames=n,
                              labels=(np.arange(n) // 3 if labelled else None)) for i, n in enumerate(lengths)]
        super().__init__(Manifest("counting", entries))
        self.size = size
        self.reads: list[tuple[int, list[int]]] = []

    def read_frames(self, i, indices=None):
        idx = np.arange(self.entries[i].num_frames) if indices is None else np.asarray(indices)
        self.reads.append((i, idx.tolist()))
        return np.broadcast_to(idx[:, None, None, None], (len(idx), self.size, self.size, 3)).astype(np.uint8)


def _frame_ids(frames: torch.Tensor) -> np.ndarray:
    """Which source frame each output frame (..., 3, H, W) shows (normalize='none', no augmentation)."""
    return np.rint(frames.mean(dim=(-3, -2, -1)).numpy() * 255).astype(np.int64)


def test_context_indices_match_a_loop():
    steps = np.array([0, 4, 20, 39])
    got = context_indices(steps, 40, 2, 15)
    expected = [[min(max(s - (2 - j) * 15, 0), 39) for j in range(3)] for s in steps]
    assert got.tolist() == expected
    assert got[:, -1].tolist() == steps.tolist()


def test_random_mode_draws_distinct_ordered_frames_reproducibly():
    sampler = ClipSampler(num_steps=10, num_context=1, frame_stride=3, mode="random")
    seen = set()
    for seed in range(50):
        steps, frames = sampler.indices(30, np.random.default_rng(seed))
        assert steps.shape == (10,) and frames.shape == (10, 2)
        assert np.all(np.diff(steps) > 0) and steps.min() >= 0 and steps.max() < 30
        seen.update(steps.tolist())
        again, _ = sampler.indices(30, np.random.default_rng(seed))
        assert again.tolist() == steps.tolist()
    assert seen == set(range(30))  # every frame can be drawn


def test_uniform_mode_puts_one_step_in_each_equal_bin():
    sampler = ClipSampler(num_steps=8, num_context=0, mode="uniform")
    offsets = set()
    for seed in range(30):
        steps = sampler.steps(50, np.random.default_rng(seed))
        bins = np.arange(8) * 50 / 8
        assert np.all(np.floor(bins) <= steps) and np.all(steps < bins + 50 / 8)
        assert set(np.diff(steps).tolist()) <= {6, 7}  # evenly spread: 50/8 = 6.25 apart
        offsets.add(int(steps[0]))
    assert len(offsets) > 1  # the offset is random


def test_stride_and_all_modes():
    steps = ClipSampler(num_steps=5, mode="stride", stride=4).steps(100, np.random.default_rng(1))
    assert np.all(np.diff(steps) == 4) and steps[-1] < 100
    assert ClipSampler(num_steps=5, mode="stride", stride=4).steps(10, np.random.default_rng(1)).tolist() == \
        [0, 4, 8, 9, 9]
    assert ClipSampler(num_steps=5, mode="stride", stride=4).valid_length(10) == 3
    every3 = ClipSampler(None, mode="all", stride=3)
    assert every3.steps(10, np.random.default_rng(0)).tolist() == [0, 3, 6, 9]
    assert every3.valid_length(10) == 4


@pytest.mark.parametrize("mode", ["random", "uniform"])
def test_short_videos_repeat_their_last_frame(mode):
    sampler = ClipSampler(num_steps=6, mode=mode)
    assert sampler.steps(4, np.random.default_rng(0)).tolist() == [0, 1, 2, 3, 3, 3]
    assert sampler.valid_length(4) == 4 and sampler.valid_length(40) == 6


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 200), t=st.integers(1, 40), k=st.integers(0, 3), fs=st.integers(1, 20),
       mode=st.sampled_from(["random", "uniform", "stride", "all"]), stride=st.integers(1, 5), seed=st.integers(0, 99))
def test_indices_are_valid_for_any_video(n, t, k, fs, mode, stride, seed):
    sampler = ClipSampler(t, k, fs, mode=mode, stride=stride)
    steps, frames = sampler.indices(n, np.random.default_rng(seed))
    assert frames.shape == (len(steps), k + 1) and frames[:, -1].tolist() == steps.tolist()
    assert frames.min() >= 0 and frames.max() < n
    assert np.all(np.diff(steps) >= 0) and np.all(np.diff(frames, axis=1) >= 0)
    length = sampler.valid_length(n)
    assert len(set(steps[:length].tolist())) == length  # the real steps are distinct frames
    assert np.all(steps[length:] == n - 1)


def test_clip_dataset_items_follow_the_contract():
    source = CountingSource([40, 5])
    ds = ClipDataset(source, ClipSampler(6, 2, 4), image_size=8, normalize="none", seed=7)
    item = ds[0]
    assert item["frames"].shape == (6, 3, 3, 8, 8) and item["frames"].dtype == torch.float32
    steps = item["steps"].numpy()
    assert _frame_ids(item["frames"]).tolist() == context_indices(steps, 40, 2, 4).tolist()
    assert item["labels"].tolist() == (steps // 3).tolist()
    assert int(item["length"]) == 6 and int(item["video_index"]) == 0
    (video, read), = source.reads
    assert video == 0 and read == sorted(set(read))  # each distinct frame read once
    short = ds[1]
    assert int(short["length"]) == 5 and short["labels"].tolist() == [0, 0, 0, 1, 1, -1]
    assert short["steps"].tolist() == [0, 1, 2, 3, 4, 4]


def test_clip_dataset_is_deterministic_per_seed_epoch_and_index():
    source = CountingSource([60, 60])
    make = lambda seed: ClipDataset(source, ClipSampler(5, 1, 2), VideoAugment(), image_size=8, seed=seed)
    a, b = make(0), make(0)
    torch.testing.assert_close(a[1]["frames"], b[1]["frames"])
    before = a[1]["steps"].tolist()
    a.set_epoch(1)
    assert a[1]["steps"].tolist() != before
    assert make(1)[1]["steps"].tolist() != before
    assert make(0)[1]["steps"].tolist() == before


def test_unlabelled_videos_give_minus_one():
    ds = ClipDataset(CountingSource([10], labelled=False), ClipSampler(4, 0), image_size=8)
    assert ds[0]["labels"].tolist() == [-1] * 4


def test_collate_pads_variable_lengths():
    source = CountingSource([12, 30])
    ds = ClipDataset(source, ClipSampler(None, 1, 5, mode="all", stride=2), image_size=8, normalize="none")
    batch = collate_clips([ds[0], ds[1]])
    assert batch["frames"].shape == (2, 15, 2, 3, 8, 8)
    assert batch["lengths"].tolist() == [6, 15] and batch["video_index"].tolist() == [0, 1]
    assert batch["steps"][0].tolist() == [0, 2, 4, 6, 8, 10] + [10] * 9
    assert batch["labels"][0].tolist() == [0, 0, 1, 2, 2, 3] + [-1] * 9
    assert _frame_ids(batch["frames"][0, 6:]).tolist() == [[5, 10]] * 9  # padding repeats the last step
    assert batch["steps"].dtype == batch["labels"].dtype == batch["lengths"].dtype == torch.int64
    with pytest.raises(GtalignError, match="at least one"):
        collate_clips([])


def test_iter_video_chunks_covers_the_video_reading_each_frame_once():
    source = CountingSource([50])
    chunks = list(iter_video_chunks(source, 0, chunk=8, num_context=2, frame_stride=6, image_size=8,
                                    normalize="none"))
    assert [len(s) for s, _ in chunks] == [8] * 6 + [2]
    steps = np.concatenate([s for s, _ in chunks])
    assert steps.tolist() == list(range(50))
    ids = np.concatenate([_frame_ids(f) for _, f in chunks])
    assert ids.tolist() == context_indices(steps, 50, 2, 6).tolist()
    reads = [j for _, idx in source.reads for j in idx]
    assert sorted(reads) == list(range(50))
    every2 = [s for s, _ in iter_video_chunks(source, 0, chunk=100, num_context=0, stride=2, image_size=8)]
    assert np.concatenate(every2).tolist() == list(range(0, 50, 2))


def test_load_frames_normalises_and_resizes():
    frames = load_frames(CountingSource([4], size=8), 0, np.array([[1, 2], [3, 3]]), 4, "imagenet")
    assert frames.shape == (2, 2, 3, 4, 4)
    expected = (3 / 255 - 0.485) / 0.229
    assert torch.allclose(frames[1, 1, 0], torch.full((4, 4), expected), atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [({"mode": "dense"}, "mode"), ({"num_steps": 0}, "num_steps"),
                                           ({"num_context": -1}, "num_context"), ({"frame_stride": 0}, "frame_stride")])
def test_bad_sampler_arguments(kwargs, match):
    with pytest.raises(GtalignError, match=match):
        ClipSampler(**kwargs)


def test_bad_dataset_arguments():
    with pytest.raises(GtalignError, match="normalize"):
        ClipDataset(CountingSource([5]), ClipSampler(), normalize="bgr")
    source = CountingSource([5])
    source.entries[0].num_frames = 0
    with pytest.raises(GtalignError, match="num_frames"):
        ClipDataset(source, ClipSampler())[0]


@pytest.fixture(scope="module")
def file_and_folder(tmp_path_factory) -> VideoSource:
    """One 37-frame video twice: as an mp4 file and as a folder of PNG frames (textured, 24 x 40 px)."""
    from PIL import Image

    from gtalign.data.video import write_video

    root = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (37, 24, 40, 3), dtype=np.uint8)
    file = write_video(root / "v.mp4", frames, fps=10)
    (root / "frames").mkdir()
    for j, image in enumerate(frames):
        Image.fromarray(image).save(root / "frames" / f"{j:06d}.png")
    return VideoSource(Manifest("stream", [VideoEntry(id="file", path=file, num_frames=37),
                                           VideoEntry(id="folder", path=root / "frames", num_frames=37)]))


@pytest.mark.parametrize("chunk, num_context, frame_stride, stride",
                         [(1, 0, 1, 1), (5, 2, 3, 1), (7, 1, 4, 2), (8, 3, 2, 3), (64, 2, 15, 1), (4, 2, 3, 2)])
@pytest.mark.parametrize("i", [0, 1])
def test_streamed_chunks_equal_reading_all_frames_at_once(file_and_folder, i, chunk, num_context, frame_stride,
                                                          stride):
    """Bit for bit what load_frames gives when it reads every frame the chunks need in one call."""
    source = file_and_folder
    chunks = list(iter_video_chunks(source, i, chunk, num_context, frame_stride, image_size=16, stride=stride))
    steps = np.concatenate([s for s, _ in chunks])
    assert steps.tolist() == list(range(0, 37, stride))
    expected = load_frames(source, i, context_indices(steps, 37, num_context, frame_stride), 16, "imagenet")
    assert torch.equal(torch.cat([f for _, f in chunks]), expected)


def test_streamed_chunks_decode_a_video_file_once(file_and_folder, monkeypatch):
    import gtalign.data.video as video

    opened, frames = [], []
    decode = video._decode

    def counting(*args, **kwargs):
        opened.append(args[0])
        for frame in decode(*args, **kwargs):
            frames.append(frame)
            yield frame

    monkeypatch.setattr(video, "_decode", counting)
    chunks = list(iter_video_chunks(file_and_folder, 0, chunk=4, num_context=2, frame_stride=3, image_size=16))
    assert len(chunks) == 10
    assert len(opened) == 1 and len(frames) == 37
