"""Evaluation protocols on frame embeddings: linear-SVM and few-shot phase classification, phase progression,
Kendall's tau of video synchronization, frame retrieval and alignment error; results files and report tables.
"""
from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding, load_embeddings
from gtalign.evaluate.alignment import evaluate_alignment
from gtalign.evaluate.classify import evaluate_fewshot, evaluate_svm
from gtalign.evaluate.kendall import evaluate_kendall
from gtalign.evaluate.progression import evaluate_progression
from gtalign.evaluate.registry import PROTOCOLS, available, run_protocol, run_protocols
from gtalign.evaluate.report import build_tables, render_report
from gtalign.evaluate.results import load_results, write_results
from gtalign.evaluate.retrieval import evaluate_retrieval
from gtalign.evaluate.runner import ensure_embeddings, evaluate_to_files

__all__ = [
    "EmbeddingSet", "PROTOCOLS", "VideoEmbedding", "available", "build_tables", "ensure_embeddings",
    "evaluate_alignment", "evaluate_fewshot", "evaluate_kendall", "evaluate_progression", "evaluate_retrieval",
    "evaluate_svm", "evaluate_to_files", "load_embeddings", "load_results", "render_report", "run_protocol",
    "run_protocols", "write_results"
]
