"""SCL (CARL), LAV and Drop-DTW: value and gradient against the cell-by-cell references, and what each must do."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gtalign.losses import create
from tests._helpers import loss_reference as ref


def _videos(seed: int, batch: int = 3, frames: int = 6, dim: int = 5):
    g = torch.Generator().manual_seed(seed)
    embs = F.normalize(torch.randn(batch, frames, dim, generator=g, dtype=torch.float64), dim=-1)
    steps = torch.sort(torch.randperm(40, generator=g)[: batch * frames].reshape(batch, frames), -1).values
    return embs.requires_grad_(True), steps


def _check(ours, theirs, embs):
    (g1,) = torch.autograd.grad(ours, embs)
    (g2,) = torch.autograd.grad(theirs, embs)
    assert float(ours.detach()) == pytest.approx(float(theirs.detach()), rel=1e-9)
    torch.testing.assert_close(g1, g2, rtol=1e-7, atol=1e-10)


def test_scl_equals_the_frame_by_frame_reference():
    embs, steps = _videos(0, batch=4)
    ours = create("scl", variance=4.0)(embs, steps=steps, video_index=torch.tensor([0, 0, 1, 1]))
    theirs = ref.scl_loss([(embs[0], embs[1]), (embs[2], embs[3])], [(steps[0], steps[1]), (steps[2], steps[3])],
                          variance=4.0)
    _check(ours, theirs, embs)


def test_scl_pairs_views_by_video_index_not_position():
    embs, steps = _videos(1, batch=4)
    loss = create("scl")
    a = loss(embs, steps=steps, video_index=torch.tensor([0, 1, 0, 1]))
    order = torch.tensor([0, 2, 1, 3])
    b = loss(embs[order], steps=steps[order], video_index=torch.tensor([0, 0, 1, 1]))
    assert float(a.detach()) == pytest.approx(float(b.detach()), rel=1e-12)


def test_scl_is_lowest_when_views_agree_in_time():
    # two views of one video whose frames sit where the prior says score better than the same views shuffled
    embs, steps = _videos(2, batch=2, frames=10, dim=8)
    same = torch.stack([embs[0], embs[0]]).detach()
    steps2 = torch.stack([steps[0], steps[0]])
    loss = create("scl", variance=1.0)
    aligned = loss(same, steps=steps2, video_index=torch.tensor([0, 0]))
    shuffled = loss(torch.stack([same[0], same[1].flip(0)]), steps=steps2, video_index=torch.tensor([0, 0]))
    assert float(aligned) < float(shuffled)


def test_lav_equals_the_cell_by_cell_reference():
    embs, steps = _videos(3)
    ours = create("lav", window=5.0)(embs, steps=steps)
    theirs = ref.lav_loss(list(embs), list(steps), [(0, 1), (0, 2)], window=5.0)
    _check(ours, theirs, embs)


def test_lav_all_pairs_and_variable_lengths():
    embs, steps = _videos(4)
    lengths = torch.tensor([6, 4, 5])
    ours = create("lav", pairing="all")(embs, lengths, steps=steps)
    videos = [embs[b, :n] for b, n in enumerate(lengths.tolist())]
    theirs = ref.lav_loss(videos, [steps[b, :n] for b, n in enumerate(lengths.tolist())],
                          [(i, j) for i in range(3) for j in range(3) if i != j])
    _check(ours, theirs, embs)


def test_dropdtw_loss_equals_the_cell_by_cell_reference():
    embs, _ = _videos(5)
    ours = create("dropdtw")(embs)
    theirs = ref.dropdtw_loss(list(embs), [(0, 1), (0, 2)])
    _check(ours, theirs, embs)


def test_dropdtw_loss_with_variable_lengths():
    embs, _ = _videos(6)
    lengths = torch.tensor([5, 6, 3])
    ours = create("dropdtw", keep=0.5)(embs, lengths)
    theirs = ref.dropdtw_loss([embs[b, :n] for b, n in enumerate(lengths.tolist())], [(0, 1), (0, 2)], keep=0.5)
    _check(ours, theirs, embs)
