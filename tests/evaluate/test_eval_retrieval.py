import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate import EmbeddingSet, evaluate_retrieval
from gtalign.evaluate.retrieval import precision_and_ap
from tests._helpers.evaluate import separable_set, video


def test_precision_and_ap_by_hand():
    relevant = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=bool)
    precision, ap = precision_and_ap(relevant)
    np.testing.assert_allclose(precision, [2 / 4, 0, 3 / 4])
    # AP@4: mean of P(k) over relevant ranks k
    np.testing.assert_allclose(ap, [(1 / 1 + 2 / 3) / 2, 0, (1 / 2 + 2 / 3 + 3 / 4) / 3])


def test_hand_made_case():
    # 1-D embeddings. Training frames at 0, 1, 2, 10, 11 with labels 0, 0, 1, 1, 1 (one class "a").
    train = EmbeddingSet([video("t", [[0.0], [1.0], [2.0], [10.0], [11.0]], split="train", labels=[0, 0, 1, 1, 1])])
    # Query at 0.4 (label 0): ranking 0(0) 1(0) 2(1) 10 11 -> relevance 1 1 0 ...
    # Query at 9.0 (label 1): ranking 10(1) 11(1) 2(1) 1(0) 0(0) -> relevance 1 1 1 0 0
    # Query at 1.8 (label 0): ranking 2(1) 1(0) 0(0) 10 11 -> relevance 0 1 1 0 0
    val = EmbeddingSet([video("v", [[0.4], [9.0], [1.8]], labels=[0, 1, 0])])
    out = evaluate_retrieval(train, val, ks=(1, 3))
    assert out.precision["1"] == pytest.approx((1 + 1 + 0) / 3)
    assert out.precision["3"] == pytest.approx((2 / 3 + 3 / 3 + 2 / 3) / 3)
    ap3 = [(1 + 1) / 2, (1 + 1 + 1) / 3, (1 / 2 + 2 / 3) / 2]
    assert out.ap["3"] == pytest.approx(np.mean(ap3))
    assert out.ap["1"] == pytest.approx(2 / 3)


def test_mean_over_videos_then_frames():
    train = EmbeddingSet([video("t", [[0.0], [10.0]], split="train", labels=[0, 1])])
    val = EmbeddingSet([video("good", [[0.1]], labels=[0]), video("half", [[0.2], [0.3]], labels=[0, 1])])
    out = evaluate_retrieval(train, val, ks=(1,))
    assert out.ap["1"] == pytest.approx((1.0 + 0.5) / 2)  # not (1 + 1 + 0) / 3


def test_separable_set_gives_perfect_retrieval(rng):
    data = separable_set(rng)
    out = evaluate_retrieval(data.split("train"), data.split("val"))
    assert out.ap == {"5": 1.0, "10": 1.0, "15": 1.0}


def test_rejects_k_larger_than_database():
    train = EmbeddingSet([video("t", [[0.0], [1.0]], split="train", labels=[0, 1])])
    with pytest.raises(GtalignError, match="max\\(ks\\)=5"):
        evaluate_retrieval(train, EmbeddingSet([video("v", [[0.0]], labels=[0])]), ks=(5,))
