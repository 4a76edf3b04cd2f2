"""soft-DTW, D3TW*, TCN, Shuffle & Learn and SpeedNet against direct implementations of their definitions."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gtalign.losses import create
from gtalign.losses.d3tw import drop_portion
from gtalign.losses.sampling import Sampler
from tests._helpers import loss_reference as ref


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def sqeuclidean(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def soft_dtw(x, y, gamma):
    return ref.dtw_table(sqeuclidean(x, y), gamma, "min_gamma")[-1, -1]


@pytest.mark.parametrize("divergence", [False, True])
def test_softdtw_matches_cell_by_cell_min_gamma(divergence):
    embs, lengths = randn(3, 8, 4, seed=1), [8, 6, 7]
    videos = [e[:n] for e, n in zip(embs, lengths)]
    value = create("softdtw", gamma=0.5, divergence=divergence)(embs, torch.tensor(lengths))

    def term(x, y):
        if not divergence:
            return soft_dtw(x, y, 0.5)
        return soft_dtw(x, y, 0.5) - 0.5 * (soft_dtw(x, x, 0.5) + soft_dtw(y, y, 0.5))

    expected = torch.stack([term(videos[0], videos[j]) for j in (1, 2)]).mean()
    assert float(value) == pytest.approx(float(expected), rel=1e-9)


def test_softdtw_divergence_is_zero_for_identical_videos():
    x = randn(1, 6, 3, seed=2)
    assert float(create("softdtw", divergence=True)(torch.cat([x, x]))) == pytest.approx(0.0, abs=1e-12)


def test_drop_portion_removes_one_contiguous_chunk():
    y = torch.arange(10, dtype=torch.float64).reshape(1, 10, 1).repeat(2, 1, 1)     # frame t has value t
    negatives, lengths = drop_portion(Sampler(0), y, torch.tensor([10, 8]), count=50, fraction=(0.2, 0.5))
    full = [10] * 50 + [8] * 50
    for neg, n, total in zip(negatives[..., 0], lengths.tolist(), full):
        kept = neg[:n].long().tolist()
        dropped = sorted(set(range(total)) - set(kept))
        assert kept == sorted(kept) and len(kept) == n
        assert dropped == list(range(dropped[0], dropped[-1] + 1))       # one contiguous portion
        assert round(0.2 * total) <= len(dropped) <= round(0.5 * total)


@pytest.mark.parametrize("form", ["softmax", "hinge"])
def test_d3tw_contrasts_positive_with_dropped_negatives(form):
    embs = F.normalize(randn(3, 8, 4, seed=3), dim=-1)
    k = 3
    value = create("d3tw", form=form, num_negatives=k, seed=7, margin=2.0)(embs)
    negatives, lengths = drop_portion(Sampler(7), embs[[1, 2]], torch.tensor([8, 8]), k, (0.25, 0.5))

    def score(x, y):
        return ref.dtw_table(ref.contrastive(x, y, 0.1), 0.1, "min_gamma")[-1, -1]

    losses = []
    for p, j in enumerate((1, 2)):
        positive = score(embs[0], embs[j])
        neg = torch.stack([score(embs[0], negatives[p * k + i, :lengths[p * k + i]]) for i in range(k)])
        if form == "hinge":
            losses.append(torch.clamp(2.0 + positive - neg, min=0).mean())
        else:
            losses.append(-torch.log_softmax(-torch.cat([positive[None], neg]), 0)[0])
    assert float(value) == pytest.approx(float(torch.stack(losses).mean()), rel=1e-9)


@pytest.mark.parametrize("form", ["npairs", "triplet"])
def test_tcn_matches_loops_over_tuples(form):
    embs, lengths = randn(2, 7, 3, seed=4), [7, 6]
    steps = torch.tensor([[0, 2, 5, 9, 14, 15, 30], [0, 1, 3, 20, 21, 22, 99]])
    value = create("tcn", form=form, positive_window=4, negative_margin=6, temperature=0.5, margin=0.3)(
        embs, torch.tensor(lengths), steps=steps)
    losses = []
    for b, n in enumerate(lengths):
        e, s = embs[b], steps[b].tolist()
        for a in range(n):
            negs = [m for m in range(n) if abs(s[a] - s[m]) > 6]
            for p in range(n):
                if p == a or abs(s[a] - s[p]) > 4 or not negs:
                    continue
                if form == "triplet":
                    d = lambda i, j, e=e: ((e[i] - e[j]) ** 2).sum()          # noqa: E731
                    losses += [torch.clamp(d(a, p) - d(a, m) + 0.3, min=0) for m in negs]
                else:
                    logits = torch.stack([e[a] @ e[m] for m in [p] + negs]) / 0.5
                    losses.append(-torch.log_softmax(logits, 0)[0])
    assert len(losses) > 5
    assert float(value) == pytest.approx(float(torch.stack(losses).mean()), rel=1e-9)


class Recorder(nn.Module):
    """Stands in for a loss head: records its input, predicts logit 0."""

    def forward(self, x):
        self.seen = x.detach()
        return x.new_zeros(x.shape[:-2] if x.dim() == 4 else x.shape[:1])


def frame_index_embeddings(lengths, frames=12, dim=4):
    embs = torch.zeros(len(lengths), frames, dim)
    embs[..., 0] = torch.arange(frames, dtype=torch.float32)
    return embs


def test_sal_samples_ordered_and_shuffled_triplets():
    lengths = torch.tensor([12, 6])
    loss = create("sal", dim=4, tuples_per_video=40, seed=1)
    loss.head = Recorder()
    value = loss(frame_index_embeddings(lengths), lengths)
    assert float(value) == pytest.approx(float(torch.log(torch.tensor(2.0))))   # BCE at logit 0
    tuples = loss.head.seen[..., 0].long()                                      # (B, 2k, 3) frame indices
    for b, n in enumerate(lengths.tolist()):
        ordered, shuffled = tuples[b, :40], tuples[b, 40:]
        assert bool((ordered[:, 0] < ordered[:, 1]).all() and (ordered[:, 1] < ordered[:, 2]).all())
        first, middle, last = shuffled.unbind(-1)
        assert bool((first < last).all() and ((middle < first) | (middle > last)).all())
        assert int(tuples[b].max()) < n
        assert {0} < set((middle < first).long().tolist())                      # both kinds of negatives


def test_speednet_samples_normal_and_sped_up_clips():
    lengths = torch.tensor([12, 7])
    loss = create("speednet", dim=4, clip_length=3, max_speed=4, seed=2)
    loss.head = Recorder()
    speeds = {0: set(), 1: set()}
    for _ in range(30):
        loss(frame_index_embeddings(lengths), lengths)
        clips = loss.head.seen[..., 0].long().reshape(2, 2, 3)                  # (B, normal/fast, L)
        for b, n in enumerate(lengths.tolist()):
            assert clips[b, 0].diff().tolist() == [1, 1]
            stride = clips[b, 1].diff()
            assert int(stride[0]) == int(stride[1]) and 2 <= int(stride[0]) <= 4
            assert int(clips[b].max()) < n
            speeds[b].add(int(stride[0]))
    assert speeds[0] == {2, 3, 4} and speeds[1] == {2, 3}                       # 7 frames fit speed 3 at most


def test_heads_are_trainable_parameters():
    for name in ("sal", "speednet"):
        loss = create(name, dim=8)
        params = list(loss.parameters())
        assert params and all(p.requires_grad for p in params)
        embs = F.normalize(torch.randn(2, 12, 8), dim=-1)
        loss(embs).backward()
        assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params)
