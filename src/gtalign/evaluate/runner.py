"""Evaluate a checkpoint or an embedding folder on named protocols and write one results file per protocol."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gtalign.data.embeddings import load_embeddings
from gtalign.errors import GtalignError
from gtalign.evaluate.registry import run_protocols
from gtalign.evaluate.results import results_filename, write_results
from gtalign.io import read_json
from gtalign.train.embed import embed_dataset


def dataset_label(dataset: str) -> str:
    """A short dataset name from what an embedding index records (a name, a manifest path or a folder)."""
    path = Path(dataset.rstrip("/")) if dataset else Path("dataset")
    return path.parent.name if path.name == "manifest.json" and path.parent.name else path.stem or "dataset"


def method_name(checkpoint: str, embeddings_dir: Path) -> str:
    """The run name of a checkpoint (`runs/<name>/last.pt` or the run folder `runs/<name>` gives `<name>`), else
    the embedding folder's name."""
    if checkpoint:
        path = Path(checkpoint)
        return (path.parent.name if path.suffix else path.name) or path.stem
    return embeddings_dir.resolve().name


def checkpoint_file(checkpoint: str | Path) -> Path:
    """The checkpoint file of a checkpoint path or of a run folder (its `last.pt`), checked to exist."""
    path = Path(checkpoint)
    file = path / "last.pt" if path.is_dir() else path
    if not file.is_file():
        raise GtalignError(f"checkpoint not found: {file} (expected a checkpoint file or a run folder with last.pt)")
    return file.resolve()


def ensure_embeddings(checkpoint: str | Path, dataset: str | Path, embed_dir: str | Path | None = None) -> Path:
    """The embedding folder of `checkpoint` (a file or a run folder) on `dataset`, running `gtalign embed` unless a
    fresh one exists.

    Default folder: `<run folder>/embeddings/<dataset name>`. An existing index is reused when it was written from
    the same checkpoint file after that file last changed.
    """
    file = checkpoint_file(checkpoint)
    embed_dir = Path(embed_dir) if embed_dir else file.parent / "embeddings" / dataset_label(str(dataset))
    index = embed_dir / "index.json"
    if index.is_file():
        recorded = str(read_json(index, "embedding index").get("checkpoint") or "")
        same = bool(recorded) and Path(recorded).exists() and checkpoint_file(recorded) == file
        if same and index.stat().st_mtime >= file.stat().st_mtime:
            return embed_dir
        if not same:
            raise GtalignError(f"{index} holds embeddings of checkpoint {recorded!r}, not {str(checkpoint)!r}; "
                               f"pass another --embed-dir")

    return Path(embed_dataset(checkpoint, dataset, embed_dir)).parent


def evaluate_to_files(embeddings_dir: str | Path, protocols: list[str], out_dir: str | Path,
                      method: str | None = None, split: str = "val", **opts: Any) -> list[Path]:
    """Run `protocols` on an embedding folder and write `<out_dir>/<method>__<dataset>__<protocol>.json` each."""
    embeddings_dir = Path(embeddings_dir)
    embeddings = load_embeddings(embeddings_dir)
    method = method or method_name(embeddings.checkpoint, embeddings_dir)
    dataset = dataset_label(embeddings.dataset)
    written = []
    for name, run in run_protocols(embeddings, protocols, split=split, **opts).items():
        path = Path(out_dir) / results_filename(method, dataset, name)
        written.append(write_results(path, name, run.result, method=method, dataset=dataset, split=split,
                                     checkpoint=embeddings.checkpoint, options=run.options, seconds=run.seconds))
    return written
