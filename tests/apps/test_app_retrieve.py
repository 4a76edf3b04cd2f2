"""Retrieval: nearest frames against a brute-force search, same phase on videos with known warps, index reuse."""
import numpy as np
import pytest

from gtalign.apps.retrieve import build_index, nearest_frames
from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding
from gtalign.data.manifest import Manifest, VideoEntry
from gtalign.data.source import VideoSource
from gtalign.errors import GtalignError
from tests._helpers.apps import PixelEncoder, write_coded

PHASES = 4


def coded_corpus(root, warps):
    """Coded videos (canonical time u per frame) with per-frame phase labels floor(u * PHASES)."""
    entries = []
    for k, u in enumerate(warps):
        path = write_coded(root / f"v{k}.avi", u, fps=25.0)
        labels = np.minimum((u * PHASES).astype(np.int64), PHASES - 1)
        entries.append(VideoEntry(id=f"v{k}", path=path, num_frames=len(u), fps=25.0, labels=labels))
    return VideoSource(Manifest(name="coded", videos=entries))


def test_nearest_frames_match_brute_force():
    rng = np.random.default_rng(0)
    videos = [VideoEmbedding(id=f"v{k}", emb=rng.normal(size=(n, 5)).astype(np.float32))
              for k, n in enumerate([7, 12, 3])]
    index = EmbeddingSet(videos)
    query = rng.normal(size=5)
    every = sorted((float(((v.emb.astype(np.float64) - query) ** 2).sum(-1)[f]), v.id, f)
                   for v in videos for f in range(v.num_frames) if v.id != "v1")
    hits = nearest_frames(query, index, 6, exclude_video="v1")
    assert [(h.video, h.frame) for h in hits] == [(v, f) for _, v, f in every[:6]]
    np.testing.assert_allclose([h.distance for h in hits], [d for d, _, _ in every[:6]], rtol=1e-9)
    assert [h.rank for h in hits] == list(range(1, 7))
    with pytest.raises(GtalignError, match="dimension 4"):
        nearest_frames(np.zeros(4), index, 1)


def test_retrieval_returns_the_same_phase(tmp_path):
    warps = [np.linspace(0, 1, 40) ** p for p in (1.0, 0.6, 1.7, 1.2)]
    source = coded_corpus(tmp_path, warps)
    index = build_index(PixelEncoder(), source, tmp_path / "index", progress=False)
    agree = []
    for f in range(0, 40, 3):
        query = index[0]
        hits = nearest_frames(query.emb[f], index, 3, exclude_video=query.id)
        agree += [index[int(h.video[1:])].labels[h.frame] == query.labels[f] for h in hits]
        assert all(h.video != query.id for h in hits)
    assert np.mean(agree) > 0.9  # only frames right at a phase boundary may land in the neighbouring phase


def test_index_is_reused_and_extended(tmp_path):
    class Counting(PixelEncoder):
        calls = 0

        def encode(self, source, i):
            Counting.calls += 1
            return super().encode(source, i)

    warps = [np.linspace(0, 1, 20), np.linspace(0, 1, 25)]
    build_index(Counting(), coded_corpus(tmp_path, warps), tmp_path / "index", progress=False)
    assert Counting.calls == 2
    index = build_index(Counting(), coded_corpus(tmp_path, warps + [np.linspace(0, 1, 30)]), tmp_path / "index",
                        progress=False)
    assert Counting.calls == 3 and [v.num_frames for v in index] == [20, 25, 30]
