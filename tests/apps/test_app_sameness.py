"""The same-process test: the real alignment against time-shuffled B."""
import numpy as np

from gtalign.apps.alignment import align_embeddings, cost_matrix
from gtalign.apps.sameness import path_mean_cost, sameness_test
from tests._helpers.apps import U_A, U_B, embed_u


def test_same_process_is_recognised():
    test = sameness_test(align_embeddings(embed_u(U_A), embed_u(U_B)).cost)
    assert test.same_process and test.z > 5 and test.ratio < 0.5
    assert "same process" in test.message() and "WARNING" not in test.message()


def test_unrelated_videos_are_flagged():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 8))
    b = rng.normal(size=(70, 8))
    test = sameness_test(cost_matrix(a / np.linalg.norm(a, axis=1, keepdims=True),
                                     b / np.linalg.norm(b, axis=1, keepdims=True)))
    assert not test.same_process and test.z < 3
    assert test.message().startswith("WARNING") and test.to_json()["same_process"] is False


def test_null_statistics_match_a_direct_loop():
    cost = cost_matrix(embed_u(U_A[:20]), embed_u(U_B[:25]))
    test = sameness_test(cost, rounds=5, seed=7)
    zs = []
    for c in (cost, cost.T):  # B shuffled, then A shuffled; the weaker is the verdict
        rng = np.random.default_rng(7)
        null = [path_mean_cost(c[:, rng.permutation(c.shape[1])]) for _ in range(5)]
        zs.append(((np.mean(null) - path_mean_cost(c)) / np.std(null), np.mean(null), np.std(null)))
    z, mean, std = min(zs)
    assert np.isclose(test.null_mean, mean) and np.isclose(test.null_std, std) and np.isclose(test.z, z)
