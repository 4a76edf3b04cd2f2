"""The temporal transformer head: padding never changes valid frames, every frame sees the whole sequence, chunked
embedding equals whole-sequence embedding and positions span the training clip."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.models import Embedder
from gtalign.models.temporal import TemporalTransformer, sincos_encoding
from gtalign.train.embed import embed_from_features


def test_padding_does_not_change_the_valid_frames():
    torch.manual_seed(0)
    head = TemporalTransformer(16, hidden=32, layers=2, heads=4, feedforward=64, positions=8).eval()
    embs = torch.randn(2, 10, 16)
    out = head(embs, torch.tensor([10, 6]))
    junk = embs.clone()
    junk[1, 6:] = torch.randn(4, 16) * 100
    torch.testing.assert_close(head(junk, torch.tensor([10, 6]))[1, :6], out[1, :6])
    torch.testing.assert_close(head(embs[1:, :6])[0], out[1, :6], rtol=1e-5, atol=1e-6)
    assert torch.allclose(out.norm(dim=-1), torch.ones(2, 10))


def test_every_frame_sees_the_whole_sequence():
    torch.manual_seed(1)
    head = TemporalTransformer(8, hidden=16, layers=1, heads=2, feedforward=32, positions=8).eval()
    embs = torch.randn(1, 8, 8)
    changed = embs.clone()
    changed[0, -1] += 5.0
    assert not torch.allclose(head(embs)[0, 0], head(changed)[0, 0])  # the first frame depends on the last


def test_positions_span_the_training_clip_whatever_the_length():
    enc = sincos_encoding(torch.tensor([[0.0, 1.0]]), 6)
    assert enc[0, 0].tolist() == pytest.approx([0, 1, 0, 1, 0, 1])
    assert float(enc[0, 1, 0]) == pytest.approx(np.sin(1.0)) and float(enc[0, 1, 1]) == pytest.approx(np.cos(1.0))
    head = TemporalTransformer(4, hidden=8, layers=1, heads=2, feedforward=16, dropout=0.0, positions=5).eval()
    seen = []
    head.encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.zeros(1, 9, 4)
    head(x)
    expected = head.inp(x) + sincos_encoding(torch.linspace(0, 4, 9)[None], 8)
    torch.testing.assert_close(seen[0], expected)


def test_chunked_embedding_equals_one_pass_over_the_video():
    torch.manual_seed(2)
    model = Embedder("mobilenet_v2", None, "frozen", 16, 8, 1, 16, 1, 0.0, temporal_head="transformer",
                     temporal_positions=6).eval()
    feats = np.random.default_rng(0).normal(size=(23, model.feature_channels, 2, 2)).astype(np.float32)
    whole = embed_from_features(model, feats, 1, 2, chunk=100)
    chunked = embed_from_features(model, feats, 1, 2, chunk=5)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)
    plain = Embedder("mobilenet_v2", None, "frozen", 16, 8, 1, 16, 1, 0.0).eval()
    assert plain.temporal is None and plain.sequence(torch.ones(1, 2, 16)).equal(torch.ones(1, 2, 16))


def test_an_unknown_head_is_named():
    with pytest.raises(GtalignError, match="temporal_head must be one of"):
        Embedder("mobilenet_v2", None, "frozen", temporal_head="lstm")
