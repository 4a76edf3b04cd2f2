"""The Sakoe-Chiba band against a cell loop of the DP restricted to the band."""
import numpy as np
import pytest
import torch

from gtalign.errors import GtalignError
from gtalign.ops import dtw_path, smooth_dtw, smooth_dtw_table, soft_alignment
from gtalign.ops.band import Itakura, band_mask
from tests._helpers.dtw_reference import reference_table

RELAXATIONS = ("smoothmin", "min_gamma", "hard")


def mask(n: int, m: int, band) -> np.ndarray:
    return band_mask(torch.tensor([n]), torch.tensor([m]), n, m, band)[0].numpy()


@pytest.mark.parametrize("n, m, band", [(5, 5, 0), (4, 9, 1), (9, 4, 1), (6, 8, 0.25), (1, 5, 0), (7, 7, 2),
                                        (6, 6, Itakura(2.0)), (5, 9, Itakura(2.0)), (9, 5, Itakura(1.9)),
                                        (12, 7, Itakura(3.0))])
def test_band_keeps_both_corners_and_a_path_between_them(n, m, band):
    allowed = mask(n, m, band)
    assert allowed[0, 0] and allowed[-1, -1]
    np.testing.assert_array_equal(mask(m, n, band), allowed.T)  # symmetric in the two sequences
    reach = np.zeros((n, m), bool)  # cells reachable from (0, 0) by allowed steps
    for i in range(n):
        for j in range(m):
            reach[i, j] = allowed[i, j] and ((i, j) == (0, 0) or (i > 0 and reach[i - 1, j]) or
                                             (j > 0 and reach[i, j - 1]) or (i > 0 and j > 0 and reach[i - 1, j - 1]))
    assert reach[-1, -1]


def test_band_width_in_frames_and_as_a_fraction():
    allowed = mask(6, 6, 1)
    lag = np.arange(6)[None, :] - np.arange(6)[:, None]
    np.testing.assert_array_equal(allowed, np.abs(lag) <= 1)
    np.testing.assert_array_equal(mask(10, 10, 0.2), mask(10, 10, 2))  # ceil(0.2 * 10) frames
    assert mask(6, 6, 1.0).all()


@pytest.mark.parametrize("relaxation", RELAXATIONS)
@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("shape, band", [((6, 9), 1), ((7, 5), 0.2), ((8, 8), Itakura(2.0))])
def test_values_and_gradients_equal_the_dp_restricted_to_the_band(relaxation, backend, shape, band):
    torch.manual_seed(0)
    cost = (torch.rand(*shape, dtype=torch.float64) * 3).requires_grad_(True)
    ours = smooth_dtw(cost, 0.3, relaxation, backend=backend, band=band)
    ref = reference_table(cost, 0.3, relaxation, allowed=mask(*shape, band))[-1, -1]
    assert float(ours.detach()) == pytest.approx(float(ref.detach()), rel=1e-10)
    (g_ours,) = torch.autograd.grad(ours, cost)
    (g_ref,) = torch.autograd.grad(ref, cost)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-8, atol=1e-12)
    assert float(g_ours[~torch.from_numpy(mask(*shape, band))].abs().max()) == 0.0  # nothing outside the band


def test_float32_matches_float64_and_soft_alignment_stays_in_the_band():
    torch.manual_seed(1)
    cost = torch.rand(3, 20, 30, dtype=torch.float64) * 5
    v64 = smooth_dtw(cost, 0.01, band=3)
    v32 = smooth_dtw(cost.float(), 0.01, band=3)
    torch.testing.assert_close(v32.double(), v64, rtol=1e-5, atol=1e-4)
    align = soft_alignment(cost, 0.1, band=3)
    outside = ~torch.from_numpy(mask(20, 30, 3))
    assert float(align[:, outside].abs().max()) == 0.0 and bool(torch.isfinite(align).all())


def test_padded_batch_equals_unpadded_pairs_with_their_own_bands():
    rng = np.random.default_rng(2)
    sizes = [(5, 9), (8, 3), (4, 4)]
    padded = torch.from_numpy(rng.uniform(0, 2, (3, 8, 9)))
    lengths = (torch.tensor([n for n, _ in sizes]), torch.tensor([m for _, m in sizes]))
    out = smooth_dtw(padded, 0.2, lengths=lengths, band=1)
    for b, (n, m) in enumerate(sizes):
        assert float(out[b]) == pytest.approx(float(smooth_dtw(padded[b, :n, :m], 0.2, band=1)), rel=1e-12)


def test_a_wide_band_changes_nothing_and_a_narrow_one_never_lowers_the_hard_score():
    cost = torch.rand(2, 7, 11, dtype=torch.float64)
    torch.testing.assert_close(smooth_dtw(cost, 0.1, band=11), smooth_dtw(cost, 0.1))
    torch.testing.assert_close(smooth_dtw_table(cost, 0.1, band=1.0), smooth_dtw_table(cost, 0.1))
    assert bool((smooth_dtw(cost, 0.0, band=0) >= smooth_dtw(cost, 0.0) - 1e-12).all())


def test_hard_path_stays_in_the_band():
    rng = np.random.default_rng(3)
    cost = rng.uniform(0, 1, (12, 20))
    cost[0, 10:] = -5.0  # a shortcut far off the diagonal that the unbanded path takes
    free, banded = dtw_path(cost), dtw_path(cost, band=2)
    allowed = mask(12, 20, 2)
    assert not allowed[free[:, 0], free[:, 1]].all()
    assert allowed[banded[:, 0], banded[:, 1]].all()
    assert cost[banded[:, 0], banded[:, 1]].sum() == pytest.approx(float(smooth_dtw(torch.from_numpy(cost), 0.0,
                                                                                      band=2)))


def test_itakura_forbids_the_corners_far_from_both_ends():
    allowed = mask(10, 10, Itakura(2.0))
    assert not allowed[0, 9] and not allowed[9, 0] and not allowed[1, 6] and allowed[5, 5]
    assert allowed.sum() < mask(10, 10, 9).sum()


@pytest.mark.parametrize("band, match", [(-1, "band must be"), (0.0, "band must be"), (1.5, "band must be"),
                                         ("wide", "band must be"), (True, "band must be"),
                                         (Itakura(1.5), "below the ratio")])
def test_bad_band_is_named(band, match):
    with pytest.raises(GtalignError, match=match):
        smooth_dtw(torch.rand(3, 6), band=band)
    with pytest.raises(GtalignError, match="max_slope"):
        Itakura(1.0)
