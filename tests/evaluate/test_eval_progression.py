import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate import EmbeddingSet, evaluate_progression
from gtalign.evaluate.labels import phase_progress, phase_segments
from tests._helpers.evaluate import video


def test_phase_segments_and_progress_by_hand():
    labels = np.array([0, 0, 1, 1, 1, -1, 0])
    assert phase_segments(labels) == [(0, 2, 0), (2, 5, 1), (5, 6, -1), (6, 7, 0)]
    np.testing.assert_allclose(phase_progress(labels), [0, 1 / 2, 0, 1 / 3, 2 / 3, np.nan, 0])


def _videos(rng, split, count, signal):
    """Videos whose embeddings hold `signal(progress)` in one direction plus unrelated dimensions."""
    direction = np.array([0.6, -0.8, 0, 0, 0])
    out = []
    for i in range(count):
        labels = np.repeat([0, 1, 2], rng.integers(8, 15, 3))
        noise = rng.normal(size=(len(labels), 5))
        noise -= np.outer(noise @ direction, direction)  # keep the signal direction clean
        out.append(video(f"{split}{i}", noise + np.outer(signal(phase_progress(labels)), direction), split=split,
                         labels=labels))
    return EmbeddingSet(out)


def test_linear_signal_is_recovered(rng):
    out = evaluate_progression(_videos(rng, "train", 6, lambda p: 2 * p - 1),
                               _videos(rng, "val", 3, lambda p: 2 * p - 1))
    assert out.r2 == pytest.approx(1.0, abs=1e-9)


def test_signal_absent_gives_r2_near_zero(rng):
    out = evaluate_progression(_videos(rng, "train", 6, lambda p: 0 * p), _videos(rng, "val", 3, lambda p: 0 * p))
    assert out.r2 < 0.1


def test_nonlinear_signal_is_partly_recovered(rng):
    out = evaluate_progression(_videos(rng, "train", 6, lambda p: p ** 4), _videos(rng, "val", 3, lambda p: p ** 4))
    assert 0.5 < out.r2 < 0.99


def test_needs_labelled_frames(rng):
    unlabelled = EmbeddingSet([video("u", rng.normal(size=(9, 3)))])
    with pytest.raises(GtalignError, match="labelled frames"):
        evaluate_progression(unlabelled, unlabelled)
