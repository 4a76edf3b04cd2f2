import numpy as np
import pytest
from scipy import stats

from gtalign.errors import GtalignError
from gtalign.evaluate import EmbeddingSet, evaluate_fewshot, evaluate_svm
from gtalign.evaluate.classify import fraction_of_videos, mean_ci95, sample_episodes, svm_accuracy
from gtalign.evaluate.labels import GlobalLabels
from tests._helpers.evaluate import separable_set, video


def test_separable_labels_give_full_accuracy_at_every_fraction(rng):
    data = separable_set(rng)
    out = evaluate_svm(data.split("train"), data.split("val"), fractions=(0.25, 1.0))
    assert out.accuracy == {"0.25": 1.0, "1.0": 1.0}


def test_phase_labels_are_per_class(rng):
    # Phase 0 of class "a" and phase 0 of class "b" sit at different centres: a classifier over raw phase ids
    # would merge them, the global (class, phase) labels keep them apart.
    data = separable_set(rng, classes=("a", "b"), phases=2)
    numbering = GlobalLabels(data)
    assert numbering.pairs == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    b_video = next(v for v in data if v.class_name == "b")
    np.testing.assert_array_equal(numbering.of(b_video), b_video.labels + 2)


def test_accuracy_counts_wrong_predictions(rng):
    # Two labels that overlap completely in embedding space: the SVM cannot beat the majority label by much.
    x = rng.normal(size=(400, 4))
    y = rng.integers(0, 2, 400)
    acc = svm_accuracy(x[:200], y[:200], x[200:], y[200:])
    assert 0.3 < acc < 0.7
    # One label seen in training: every frame predicted as it.
    assert svm_accuracy(x[:10], np.zeros(10, int), x[:4], np.array([0, 0, 1, 1])) == 0.5


def test_fraction_of_videos_takes_nested_subsets_per_class(rng):
    data = separable_set(rng, per_split=(10, 1)).split("train")
    small, half, full = (fraction_of_videos(data, f, seed=3) for f in (0.1, 0.5, 1.0))
    assert [len(s) for s in (small, half, full)] == [2, 10, 20]  # one per class, 5 per class, all
    assert {v.id for v in small} <= {v.id for v in half}
    assert {v.class_name for v in small} == {"a", "b"}
    assert {v.id for v in fraction_of_videos(data, 0.5, seed=4)} != {v.id for v in half}


def test_per_event_svm_trains_one_classifier_per_class(rng):
    data = separable_set(rng, classes=("VT", "FX", "BB"))
    out = evaluate_svm(data.split("train"), data.split("val"), fractions=(1.0,), per_event=True)
    assert set(out.per_event) == {"VT", "FX", "BB"}
    assert all(e == {"1.0": 1.0} for e in out.per_event.values())
    assert out.accuracy == {"1.0": 1.0}


def test_per_event_accuracy_is_the_mean_over_events(rng):
    data = separable_set(rng, classes=("a", "b"))
    noisy = [video(v.id + "n", rng.normal(size=v.emb.shape), "n", v.split, v.labels)
             for v in data if v.class_name == "a"]
    both = EmbeddingSet(list(data) + noisy)
    out = evaluate_svm(both.split("train"), both.split("val"), fractions=(1.0,), per_event=True)
    accs = [out.per_event[c]["1.0"] for c in ("a", "b", "n")]
    assert accs[0] == accs[1] == 1.0 and accs[2] < 0.9
    assert out.accuracy["1.0"] == pytest.approx(np.mean(accs))


def test_svm_rejects_unlabelled_videos_and_bad_fractions(rng):
    data = separable_set(rng)
    unlabelled = EmbeddingSet([video("u", np.zeros((5, 8)), split="train")])
    with pytest.raises(GtalignError, match="train: expected videos with per-frame labels"):
        evaluate_svm(unlabelled, data.split("val"))
    with pytest.raises(GtalignError, match="fractions"):
        evaluate_svm(data.split("train"), data.split("val"), fractions=(0.0, 1.5))


def test_fewshot_episodes_are_reproducible_by_seed(rng):
    train = separable_set(rng, per_split=(8, 1)).split("train")
    first = sample_episodes(train, shots=2, episodes=5, seed=7)
    assert first == sample_episodes(train, shots=2, episodes=5, seed=7)
    assert first != sample_episodes(train, shots=2, episodes=5, seed=8)
    for ids in first:  # two distinct videos of each class
        classes = [i.split("_")[0] for i in ids]
        assert sorted(classes) == ["a", "a", "b", "b"] and len(set(ids)) == 4


def test_fewshot_reports_mean_and_ci_over_episodes(rng):
    data = separable_set(rng)
    a = evaluate_fewshot(data.split("train"), data.split("val"), shots=(1, 2), episodes=4, seed=1)
    b = evaluate_fewshot(data.split("train"), data.split("val"), shots=(1, 2), episodes=4, seed=1)
    assert a == b
    assert a.shots["1"]["mean"] == 1.0 and a.shots["2"]["mean"] == 1.0  # separable: one video suffices
    assert a.shots["1"]["ci95"] == 0.0


def test_mean_ci95_matches_scipy_t_interval(rng):
    values = rng.uniform(size=12)
    mean, half = mean_ci95(values)
    low, high = stats.t.interval(0.95, 11, loc=values.mean(), scale=stats.sem(values))
    assert mean == pytest.approx(values.mean()) and half == pytest.approx((high - low) / 2)
    assert np.isnan(mean_ci95([0.5])[1])
