"""Alignment core: smooth minima, frame cost matrices, differentiable DTW and the hard warping path.

Shapes: ``x (B, N, D)``, ``y (B, M, D)`` -> cost ``(B, N, M)`` -> scores ``(B,)`` or table ``(B, N+1, M+1)``.
"""
from gtalign.ops.band import Itakura, SakoeChiba
from gtalign.ops.costs import contrastive_cost, cosine_cost, sqeuclidean_cost
from gtalign.ops.divergence import soft_dtw_divergence
from gtalign.ops.drop_dtw import DropAlignment, drop_dtw, drop_dtw_path
from gtalign.ops.dtw import BACKENDS, smooth_dtw, smooth_dtw_last_row, smooth_dtw_table, soft_alignment
from gtalign.ops.long_dtw import long_smooth_dtw
from gtalign.ops.path import dtw_path, path_to_mapping
from gtalign.ops.smoothmin import RELAXATIONS, min_gamma, smooth_min
from gtalign.ops.subsequence import SubsequenceMatch, subsequence_dtw, subsequence_path

__all__ = [
    "BACKENDS", "DropAlignment", "Itakura", "RELAXATIONS", "SakoeChiba", "SubsequenceMatch", "contrastive_cost",
    "cosine_cost", "drop_dtw", "drop_dtw_path", "dtw_path", "long_smooth_dtw", "min_gamma", "path_to_mapping",
    "smooth_dtw", "smooth_dtw_last_row", "smooth_dtw_table", "smooth_min", "soft_alignment", "soft_dtw_divergence",
    "sqeuclidean_cost", "subsequence_dtw", "subsequence_path"
]
