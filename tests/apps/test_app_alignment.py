"""Alignment of embeddings with a known time warp: hard path, soft alignment, matched span, best matches."""
import numpy as np
import pytest

from gtalign.apps.alignment import align_embeddings, matched_span
from gtalign.errors import GtalignError
from tests._helpers.apps import U_A, U_B, embed_u, nearest_frame


@pytest.mark.parametrize("soft", [False, True])
def test_recovers_known_warp(soft):
    al = align_embeddings(embed_u(U_A), embed_u(U_B), soft=soft, gamma=0.01)
    truth = nearest_frame(U_A, U_B)
    error = np.abs(al.b_of_a - truth)
    # B's pause holds u still for ~14 frames: any of them is right, so compare canonical times there
    u_error = np.abs(U_B[al.frame_b] - U_A)
    assert np.mean(np.minimum(error, u_error * 95)) < 1.0
    assert al.cost.shape == (60, 95) and al.b_of_a.shape == (60,)
    assert np.all(np.diff(al.b_of_a) >= -1e-6)  # monotone


def test_hard_path_matches_direct_dtw():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(9, 4)), rng.normal(size=(7, 4))
    al = align_embeddings(a, b)
    cost = ((a[:, None] - b[None]) ** 2).sum(-1)
    np.testing.assert_allclose(al.cost, cost, rtol=1e-10, atol=1e-10)
    # textbook DTW on the same cost
    r = np.full((10, 8), np.inf)
    r[0, 0] = 0
    for i in range(1, 10):
        for j in range(1, 8):
            r[i, j] = cost[i - 1, j - 1] + min(r[i - 1, j - 1], r[i - 1, j], r[i, j - 1])
    assert cost[al.path[:, 0], al.path[:, 1]].sum() == pytest.approx(r[9, 7])
    assert al.mean_cost == pytest.approx(r[9, 7] / len(al.path))


def test_matched_span_reports_extra_content():
    core = np.linspace(0, 1, 40)

    def lift(e):  # one more dimension, unused by A's content
        return np.pad(e, ((0, 0), (0, 1)))

    a = lift(embed_u(core))
    # B: 10 frames of something else first (orthogonal to all of A), A's content, then 6 still frames at the end
    extra = np.tile(np.eye(7, dtype=np.float32)[6], (10, 1))
    b = np.concatenate([extra, lift(embed_u(core)), lift(embed_u(np.ones(6)))])
    al = align_embeddings(a, b)
    (a0, a1), (b0, b1) = al.span
    assert (a0, a1) == (0, 39)
    assert b0 == 10 and b1 == 49
    assert al.span == matched_span(al.path, 40, 56)


def test_best_match_picks_exact_frames_where_a_skips():
    u_a = np.linspace(0, 1, 30)
    idx = np.r_[0:10, 12:20, 20, 20, 20, 21:30]  # B skips frames 10, 11 of A and holds frame 20
    al = align_embeddings(embed_u(u_a[idx]), embed_u(u_a))  # rows: B, columns: A
    np.testing.assert_array_equal(al.best_match, idx)


def test_bad_embeddings():
    with pytest.raises(GtalignError, match="same dimension"):
        align_embeddings(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(GtalignError, match="at least one frame"):
        align_embeddings(np.zeros((0, 4)), np.zeros((3, 4)))
    with pytest.raises(GtalignError, match="NaN"):
        align_embeddings(np.full((2, 4), np.nan), np.zeros((3, 4)))
