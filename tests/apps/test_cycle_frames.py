"""`apps.alignment.cycle_frames`: frames of A sent to B and back by the two directions' alignments."""
import numpy as np
import pytest

from gtalign.apps.alignment import align_costs, align_embeddings, cost_matrix, cycle_frames


def _walk(t: int, rng: np.random.Generator, d: int = 6) -> np.ndarray:
    return np.cumsum(rng.normal(size=(t, d)), axis=0)


def _costs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = cost_matrix(a, b)
    return c / np.median(c)


def test_a_clear_pair_comes_back_where_it_started_and_an_unrelated_one_does_not():
    rng = np.random.default_rng(0)
    signal = _walk(120, rng)
    warp = np.clip(np.round(np.cumsum(np.r_[np.full(40, 0.7), np.full(40, 1.5), np.full(40, 1.0)])), 0, 119)
    noise = 0.05 * rng.normal(size=(2, *signal.shape))
    a, b = signal + noise[0], signal[warp.astype(int)] + noise[1]
    clear = cycle_frames(align_costs(_costs(a, b), 30.0, 30.0), 30.0, 30.0)
    unrelated = cycle_frames(align_costs(_costs(a, rng.normal(size=(120, 6))), 30.0, 30.0), 30.0, 30.0)
    assert clear is not None and unrelated is not None
    assert clear < 0.2 and unrelated > 1.5 * clear  # over 12 seeds the ratio was 1.8-10


def test_it_is_the_mean_distance_of_the_round_trip():
    """The definition, composed by hand: B's alignment to A (the same costs transposed) interpolated at A's
    positions in B, against where each matched frame of A started; in frames of the lower frame rate."""
    rng = np.random.default_rng(1)
    cost = _costs(_walk(50, rng), _walk(70, rng))
    forward = align_costs(cost, 35.0, 25.0)
    back = align_costs(cost.T.copy(), 25.0, 35.0)
    rows = np.flatnonzero(forward.matched > 0.5)
    expected = np.mean([abs(np.interp(forward.b_of_a[i], np.arange(70), back.b_of_a) - i) for i in rows])
    assert cycle_frames(forward, 35.0, 25.0) == pytest.approx(expected * 25 / 35)  # B has the lower frame rate


def test_no_value_without_a_soft_alignment():
    rng = np.random.default_rng(2)
    assert cycle_frames(align_embeddings(rng.normal(size=(20, 4)), rng.normal(size=(25, 4))), 30.0, 30.0) is None
