import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate import EmbeddingSet, evaluate_alignment
from gtalign.evaluate.alignment import path_to_mapping, true_correspondence
from tests._helpers.evaluate import video


def reference_dtw_path(cost: np.ndarray) -> np.ndarray:
    """Textbook DTW: cumulative table with steps (1,0), (0,1), (1,1), then backtracking from the end."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    i, j, path = n, m, [(n - 1, m - 1)]
    while (i, j) != (1, 1):
        i, j = min(((i - 1, j - 1), (i - 1, j), (i, j - 1)), key=lambda ij: acc[ij])
        path.append((i - 1, j - 1))
    return np.array(path[::-1])


def warped_video(vid, times, cls="a"):
    """Embeddings that are a smooth curve of canonical time, so the true alignment is recoverable."""
    emb = np.stack([np.cos(np.pi * times), np.sin(np.pi * times), times ** 2], axis=1)
    return video(vid, emb, cls, meta={"canonical_time": times.tolist()})


def test_true_correspondence_and_path_mapping_by_hand():
    np.testing.assert_array_equal(true_correspondence(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 0.6, 1.0])),
                                  [0, 2, 3])
    path = np.array([[0, 0], [0, 1], [1, 2], [2, 3], [2, 4]])
    np.testing.assert_allclose(path_to_mapping(path, 3), [0.5, 2.0, 3.5])
    with pytest.raises(GtalignError, match="every row"):
        path_to_mapping(path[:3], 3)


def test_identical_videos_have_zero_error_and_tau_one():
    times = np.linspace(0, 1, 25)
    out = evaluate_alignment(EmbeddingSet([warped_video("x", times), warped_video("y", times)]),
                             path_fn=reference_dtw_path)
    for kind in ("nn", "dtw"):
        assert getattr(out, kind)["mae_frames"] == 0.0
        assert getattr(out, kind)["tau"] == pytest.approx(1.0)
    assert out.pairs == 2


def test_known_warp_is_recovered_by_dtw_within_a_frame(rng):
    base = np.linspace(0, 1, 40)
    videos = [warped_video("lin", base), warped_video("slow", base ** 2), warped_video("fast", np.sqrt(base)),
              warped_video("b0", base, "b"), warped_video("b1", base ** 1.5, "b")]
    out = evaluate_alignment(EmbeddingSet(videos), path_fn=reference_dtw_path)
    assert out.pairs == 6 + 2
    assert set(out.per_class) == {"a", "b"}
    assert out.dtw["mae_frames"] < 1.0
    assert out.dtw["tau"] > 0.95
    per_class = [c["dtw"]["mae_frames"] for c in out.per_class.values()]
    assert out.dtw["mae_frames"] == pytest.approx(np.mean(per_class))


def test_reversed_video_gives_tau_minus_one_for_nearest_neighbours():
    times = np.linspace(0, 1, 30)
    forward = warped_video("f", times)
    backward = video("r", forward.emb[::-1], meta={"canonical_time": times.tolist()})  # claims forward time
    out = evaluate_alignment(EmbeddingSet([forward, backward]), path_fn=reference_dtw_path)
    assert out.nn["tau"] == pytest.approx(-1.0)
    assert out.nn["mae_frames"] > 10


def test_default_path_comes_from_gtalign_ops():
    pytest.importorskip("gtalign.ops.path", reason="the ops layer provides dtw_path")
    base = np.linspace(0, 1, 20)
    val = EmbeddingSet([warped_video("lin", base), warped_video("slow", base ** 2)])
    assert evaluate_alignment(val) == evaluate_alignment(val, path_fn=reference_dtw_path)


def test_needs_canonical_time():
    val = EmbeddingSet([video("x", np.zeros((5, 2))), video("y", np.zeros((5, 2)))])
    with pytest.raises(GtalignError, match="canonical_time"):
        evaluate_alignment(val, path_fn=reference_dtw_path)
