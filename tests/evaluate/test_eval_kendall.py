import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import kendalltau

from gtalign.errors import GtalignError
from gtalign.evaluate import EmbeddingSet, evaluate_kendall
from gtalign.evaluate.neighbours import nearest_frames, pairwise_distances
from tests._helpers.evaluate import video


def scipy_loop_tau(embs, stride, metric):
    """TCC's protocol written directly: a loop over ordered pairs with scipy's cdist and kendalltau."""
    taus = []
    for i, a in enumerate(embs):
        for j, b in enumerate(embs):
            if i != j:
                nn = cdist(a[::stride], b[::stride], metric).argmin(1)
                taus.append(kendalltau(np.arange(len(nn)), nn).statistic)
    taus = np.array(taus)
    return taus[~np.isnan(taus)].mean()


@pytest.mark.parametrize("metric", ["sqeuclidean", "cosine"])
def test_pairwise_distances_match_scipy(rng, metric):
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(9, 5))
    np.testing.assert_allclose(pairwise_distances(a, b, metric), cdist(a, b, metric), atol=1e-10)


def test_nearest_frames_match_cdist_for_unequal_lengths(rng):
    embs = [rng.normal(size=(n, 4)) for n in (5, 9, 3)]
    nn = nearest_frames(embs)
    assert nn.shape == (3, 9, 3)
    for i, a in enumerate(embs):
        for j, b in enumerate(embs):
            np.testing.assert_array_equal(nn[i, : len(a), j], cdist(a, b, "sqeuclidean").argmin(1))
        assert (nn[i, len(a):] == -1).all()


def test_identical_videos_give_tau_one(rng):
    emb = rng.normal(size=(40, 8))
    val = EmbeddingSet([video(f"v{i}", emb) for i in range(3)])
    out = evaluate_kendall(val, stride=5)
    assert out.tau == pytest.approx(1.0)
    assert out.pairs == 6 and out.nan_pairs == 0


def test_reversed_time_gives_tau_minus_one(rng):
    emb = rng.normal(size=(41, 8))  # 41 = 8 * 5 + 1: the strided frames of the reversed video are the same frames
    out = evaluate_kendall(EmbeddingSet([video("fwd", emb), video("rev", emb[::-1])]), stride=5)
    assert out.tau == pytest.approx(-1.0)


@pytest.mark.parametrize("metric", ["sqeuclidean", "cosine"])
def test_matches_direct_scipy_loop(rng, metric):
    classes = {"a": [rng.normal(size=(n, 6)) for n in (23, 31, 27, 40)],
               "b": [rng.normal(size=(n, 6)) for n in (35, 22)]}
    # Smoothly varying embeddings give non-trivial taus (random frames alone give taus near 0).
    for embs in classes.values():
        for e in embs:
            e += 3 * np.sin(np.linspace(0, 3, len(e)))[:, None] * np.arange(1, 7)
    val = EmbeddingSet([video(f"{c}{i}", e, c) for c, embs in classes.items() for i, e in enumerate(embs)])
    out = evaluate_kendall(val, stride=2, distance=metric)
    expected = {c: scipy_loop_tau(embs, 2, metric) for c, embs in classes.items()}
    for c in classes:
        assert out.per_class[c] == pytest.approx(expected[c], abs=1e-12)
    assert out.tau == pytest.approx(np.mean(list(expected.values())), abs=1e-12)
    assert out.pairs == 12 + 2


def test_nan_pairs_are_dropped(rng):
    emb = rng.normal(size=(30, 4))
    constant = np.ones((30, 4))  # all frames equal: every pair with this video has a constant side, tau is NaN
    val = EmbeddingSet([video("x", emb), video("y", emb.copy()), video("c", constant)])
    out = evaluate_kendall(val, stride=1)
    assert out.nan_pairs == 4  # x->c, y->c, c->x, c->y
    expected = scipy_loop_tau([emb, emb.copy(), constant], 1, "sqeuclidean")
    assert out.tau == pytest.approx(expected) == pytest.approx(1.0)  # only x->y and y->x remain


def test_single_video_classes_are_skipped_and_all_skipped_is_an_error(rng):
    emb = rng.normal(size=(10, 3))
    out = evaluate_kendall(EmbeddingSet([video("a0", emb, "a"), video("a1", emb, "a"), video("b0", emb, "b")]), 1)
    assert out.skipped_classes == ["b"] and list(out.per_class) == ["a"]
    with pytest.raises(GtalignError, match="two or more"):
        evaluate_kendall(EmbeddingSet([video("b0", emb, "b")]))
    with pytest.raises(GtalignError, match="distance"):
        evaluate_kendall(EmbeddingSet([video("a0", emb), video("a1", emb)]), distance="euclid")
