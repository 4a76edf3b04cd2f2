"""Evaluation protocols on frame embeddings: linear-SVM and few-shot phase classification, phase progression,
Kendall's tau of video synchronization, frame retrieval and alignment error; each returns a typed result
(`ProtocolResult`: `summary()`, `to_json()`, `from_json()`); results files and report tables (`Table`).
"""
from gtalign.data.embeddings import EmbeddingSet, VideoEmbedding, load_embeddings
from gtalign.evaluate.alignment import AlignmentResult, evaluate_alignment
from gtalign.evaluate.classify import FewShotResult, SvmResult, evaluate_fewshot, evaluate_svm
from gtalign.evaluate.kendall import KendallResult, evaluate_kendall
from gtalign.evaluate.progression import ProgressionResult, evaluate_progression
from gtalign.evaluate.protocol_result import ProtocolResult
from gtalign.evaluate.registry import PROTOCOLS, ProtocolRun, available, run_protocol, run_protocols
from gtalign.evaluate.report import build_tables, render_report
from gtalign.evaluate.results import load_results, write_results
from gtalign.evaluate.retrieval import RetrievalResult, evaluate_retrieval
from gtalign.evaluate.runner import ensure_embeddings, evaluate_to_files
from gtalign.evaluate.table import Column, Row, Table

__all__ = [
    "AlignmentResult", "Column", "EmbeddingSet", "FewShotResult", "KendallResult", "PROTOCOLS", "ProgressionResult",
    "ProtocolResult", "ProtocolRun", "RetrievalResult", "Row", "SvmResult", "Table", "VideoEmbedding", "available",
    "build_tables", "ensure_embeddings", "evaluate_alignment", "evaluate_fewshot", "evaluate_kendall",
    "evaluate_progression", "evaluate_retrieval", "evaluate_svm", "evaluate_to_files", "load_embeddings",
    "load_results", "render_report", "run_protocol", "run_protocols", "write_results"
]
