"""Evaluation protocols on frame embeddings: linear-SVM and few-shot phase classification, phase progression,
Kendall's tau of video synchronization, frame retrieval and alignment error; results files and report tables.

The names below are imported on first use (`gtalign.lazy`)."""
from gtalign.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "gtalign.evaluate.alignment": ["evaluate_alignment"],
    "gtalign.evaluate.classify": ["evaluate_fewshot", "evaluate_svm"],
    "gtalign.evaluate.embeddings": ["EmbeddingSet", "VideoEmbedding", "load_embeddings"],
    "gtalign.evaluate.kendall": ["evaluate_kendall"],
    "gtalign.evaluate.progression": ["evaluate_progression"],
    "gtalign.evaluate.registry": ["PROTOCOLS", "available", "run_protocol", "run_protocols"],
    "gtalign.evaluate.report": ["build_tables", "render_report"],
    "gtalign.evaluate.results": ["load_results", "write_results"],
    "gtalign.evaluate.retrieval": ["evaluate_retrieval"],
    "gtalign.evaluate.runner": ["ensure_embeddings", "evaluate_to_files"],
})
