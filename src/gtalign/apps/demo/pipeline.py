"""The demo's main job: data -> train every method -> embed -> evaluate, each (method, seed) cached on disk.

Output folder layout (`out/`):

    data/<dataset>/manifest.json          the synthetic dataset (generated once)
    feature_cache/                        frozen-trunk features, shared by every run
    runs/<method>/seed<k>-<hash>/         training run (checkpoints; resumed when interrupted)
    embeddings/<method>/seed<k>-<hash>/   per-frame embeddings of every video (`gtalign embed` format)
    results/<method>__seed<k>__<hash>.json   the evaluation of one (method, seed); its presence means "done"

`<hash>` digests everything a run's numbers depend on, so a changed setting starts new runs instead of mixing.
"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

from gtalign.apps.demo.embed_cached import embed_cached, embed_frame_time, embed_true_pose, embed_trunk_features
from gtalign.apps.demo.report import write_report
from gtalign.apps.demo.settings import (
    POSE,
    REFERENCES,
    TIME,
    TRUNK,
    UNTRAINED,
    DemoSettings,
    Method,
    settings_hash,
)
from gtalign.apps.demo.showcase import build_showcase
from gtalign.data import load_manifest, open_source
from gtalign.data.synth import generate_dataset
from gtalign.errors import GtalignError
from gtalign.evaluate import load_embeddings, run_protocol
from gtalign.evaluate.alignment import (
    canonical_time,
    mapping_scores,
    ops_dtw_path,
    path_to_mapping,
    true_correspondence,
)
from gtalign.evaluate.neighbours import pairwise_distances
from gtalign.evaluate.registry import get_protocol
from gtalign.io import pool_context, read_json, write_json
from gtalign.models import weights_dir
from gtalign.models.trunks import trunk_spec
from gtalign.train.checkpoint import LAST, load_checkpoint
from gtalign.train.config import config_from_dict
from gtalign.train.features import FeatureCache
from gtalign.train.trainer import Trainer, build_embedder

RESULTS_FORMAT = "gtalign-demo-result"
NOT_TRAINED = (TIME, POSE, TRUNK, UNTRAINED)
#: The references that see no pixels: their embeddings come from the manifest alone.
WITHOUT_PIXELS = {TIME: embed_frame_time, POSE: embed_true_pose}
#: The trunk-feature cache is filled in this many shares per worker process (so its bar moves).
TRUNK_CACHE_PARTS = 4


@dataclass(frozen=True)
class Job:
    """One cell of the work: a method trained with one seed."""

    method: Method
    seed: int


@dataclass
class DemoRun:
    """What `run_demo` produced: the results of every job, and where things are."""

    out_dir: Path
    settings: DemoSettings
    manifest: Path
    trunk: str
    seeds: list[int]
    results: list[dict[str, Any]] = field(default_factory=list)

    def of(self, key: str, seed: int | None = None) -> list[dict[str, Any]]:
        """The results of method `key` (of one seed, or of every seed)."""
        return [r for r in self.results if r["method"] == key and (seed is None or r["seed"] == seed)]


# ---------------------------------------------------------------------------------------------- data and trunk

def prepare_dataset(settings: DemoSettings, out_dir: Path, workers: int = 2, progress: bool = True) -> Path:
    """Generate the synthetic dataset into `out/data/<name>/` unless it is complete there; returns its manifest."""
    folder = out_dir / "data" / settings.dataset.folder_name
    manifest = folder / "manifest.json"
    if manifest.is_file():
        return manifest
    d = settings.dataset
    return Path(generate_dataset(folder, num_classes=d.num_classes, videos_per_class=d.videos_per_class,
                                 min_frames=d.min_frames, max_frames=d.max_frames, image_size=d.image_size,
                                 seed=d.seed, workers=workers, progress=progress, difficulty=d.difficulty))


def local_trunk_weights(trunk: str) -> tuple[str | None, str]:
    """The local ImageNet weights file of `trunk` if it is installed (never downloads), and a sentence saying so."""
    path = weights_dir() / Path(trunk_spec(trunk).imagenet.url).name
    if path.is_file():
        return str(path), f"ImageNet {trunk} trunk from {path} (frozen)"
    return None, (f"no ImageNet weights at {path} (run `make weights`); using a randomly initialised {trunk} "
                  f"trunk (frozen), so every number is lower than with ImageNet features")


def held_out_pair(manifest: Path) -> tuple[str, str]:
    """The ids of the first two `val` videos of the first class: the pair the demo puts in sync."""
    m = load_manifest(manifest)
    for cls in m.classes:
        val = [v.id for v in m.videos if v.class_name == cls and v.split == "val"]
        if len(val) >= 2:
            return val[0], val[1]
    raise GtalignError(f"{manifest}: expected a class with two or more val videos to align, found none")


# ---------------------------------------------------------------------------------------------- one job

def job_hash(settings: DemoSettings, job: Job, trunk_weights: str | None) -> str:
    """Digest of what the job's numbers depend on (dataset, training setup, loss, trunk, protocols, seed)."""
    parts = [settings.dataset, settings.training.to_dict(), job.method.loss, job.method.key, trunk_weights is not None,
             settings.protocols, job.seed]
    return settings_hash(*parts, job.method.model) if job.method.model else settings_hash(*parts)


def train_config(settings: DemoSettings, job: Job, manifest: Path, run_dir: Path, cache_dir: Path,
                 trunk_weights: str | None, threads: int = 1):
    """The `gtalign train` config of a job: the shared training section with this job's loss, seed, folders and
    CPU threads (not part of the job's hash: threads change speed, not what is computed)."""
    values = settings.training.to_dict()
    values["data"]["root"] = str(manifest)
    values["model"].update(job.method.model, weights=trunk_weights, cache_dir=str(cache_dir))
    values["train"].update(log_dir=str(run_dir), seed=job.seed, threads=threads)
    values["loss"] = dict(job.method.loss)
    return config_from_dict(values)


def train(config, untrained: bool, progress: bool) -> Path:
    """Train (resuming an interrupted run) and return the run's `last.pt`; `untrained` saves step 0 only."""
    last = Path(config.train.log_dir) / LAST
    target = 0 if untrained else config.train.max_steps
    if last.is_file() and int(load_checkpoint(last)["step"]) >= target:
        return last
    trainer = Trainer(config, resume=last.is_file(), progress=progress)
    if untrained:
        trainer.save()
    else:
        trainer.fit()
    return last


def pair_scores(embeddings, pair: tuple[str, str]) -> dict[str, dict[str, float]]:
    """Alignment error of the held-out pair: DTW path and nearest neighbours on squared Euclidean distances.

    Returns `{"dtw": {"mae_frames", "tau"}, "nn": {...}}` (frames of video B, Kendall's tau).
    """
    by_id = {v.id: v for v in embeddings}
    a, b = by_id[pair[0]], by_id[pair[1]]
    truth = true_correspondence(canonical_time(a), canonical_time(b))
    dist = pairwise_distances(a.emb, b.emb, "sqeuclidean")
    dtw = mapping_scores(path_to_mapping(ops_dtw_path(dist), a.num_frames), truth)
    nn = mapping_scores(dist.argmin(1).astype(np.float64), truth)
    return {"dtw": {"mae_frames": dtw[0], "tau": dtw[1]}, "nn": {"mae_frames": nn[0], "tau": nn[1]}}


def evaluate(embed_dir: Path, protocols: dict[str, dict[str, Any]], pair: tuple[str, str]) -> dict[str, Any]:
    """Every protocol (with its own options) on one embedding folder, and the held-out pair's alignment.

    A protocol that cannot score these embeddings (GtalignError) is recorded as `{"error": message}`.
    """
    embeddings = load_embeddings(embed_dir)
    out = {}
    for name, options in protocols.items():
        unknown = sorted(set(options) - set(get_protocol(name).options))
        if unknown:
            raise GtalignError(f"protocols.{name}: option(s) {unknown} not taken by {name} "
                               f"(it takes {get_protocol(name).options})")
        try:
            out[name] = run_protocol(embeddings, name, **options).to_json()
        except GtalignError as e:  # e.g. Kendall's tau of a collapsed embedding is undefined: a "-" in the table
            out[name] = {"error": str(e), "options": options}
    return {"protocols": out, "pair": pair_scores(embeddings, pair)}


def embed_job(job: Job, config, manifest: Path, embed_dir: Path, cache_dir: Path, progress: bool) -> str:
    """Train (or not) and embed every video for one job; returns the checkpoint used ("" for none)."""
    if job.method.key in WITHOUT_PIXELS:
        WITHOUT_PIXELS[job.method.key](manifest, embed_dir, progress)
        return ""
    checkpoint = train(config, job.method.key in NOT_TRAINED, progress)
    embed = embed_trunk_features if job.method.key == TRUNK else embed_cached
    embed(checkpoint, manifest, embed_dir, cache_dir, progress=progress)
    return str(checkpoint)


def run_job(settings: DemoSettings, job: Job, out_dir: Path, manifest: Path, trunk_weights: str | None,
            pair: tuple[str, str], threads: int = 1, progress: bool = True) -> dict[str, Any]:
    """Train, embed and evaluate one (method, seed), or read its cached result; returns the result record."""
    digest = job_hash(settings, job, trunk_weights)
    name = f"seed{job.seed}-{digest}"
    result_path = out_dir / "results" / f"{job.method.key}__seed{job.seed}__{digest}.json"
    if result_path.is_file():
        return read_json(result_path, "demo result")
    embed_dir = out_dir / "embeddings" / job.method.key / name
    cache_dir = out_dir / "feature_cache" / settings.dataset.folder_name
    config = train_config(settings, job, manifest, out_dir / "runs" / job.method.key / name, cache_dir,
                          trunk_weights, threads)
    tic = time.perf_counter()
    checkpoint = embed_job(job, config, manifest, embed_dir, cache_dir, progress)
    embed_s = time.perf_counter() - tic
    tic = time.perf_counter()
    evaluation = evaluate(embed_dir, settings.protocols, pair)
    trained = job.method.key not in NOT_TRAINED
    record = {"format": RESULTS_FORMAT, "method": job.method.key, "label": job.method.label, "seed": job.seed,
              "hash": digest, "loss": job.method.loss if trained else None,
              "steps": config.train.max_steps if trained else 0, "checkpoint": checkpoint,
              "embeddings": str(embed_dir), "pair_ids": list(pair),
              "seconds": {"train_and_embed": embed_s, "evaluate": time.perf_counter() - tic}, **evaluation}
    write_json(result_path, record)
    return record


# ---------------------------------------------------------------------------------------------- the whole demo

def jobs_for(settings: DemoSettings, seeds: list[int], ablations: bool) -> list[Job]:
    """The reference rows and every method for every seed (then the ablations), seed-major so that a first
    complete table exists as early as possible."""
    methods = [*REFERENCES, *settings.methods, *(settings.ablations if ablations else [])]
    return [Job(m, s) for s in seeds for m in methods]


def start_order(todo: list[Job], indices: list[int]) -> list[int]:
    """The runs `indices` of `todo` in the order they start on the worker processes: seed by seed, and within a seed
    the most costly first (`Method.cost`), so that the processes finish together. The order changes no number."""
    return sorted(indices, key=lambda k: (todo[k].seed, -todo[k].method.cost))


def _init_worker(threads: int) -> None:
    torch.set_num_threads(max(1, threads))


def build_trunk_cache_part(settings: DemoSettings, job: Job, out_dir: Path, manifest: Path,
                           trunk_weights: str | None, part: int, parts: int) -> int:
    """Fill the shared trunk-feature cache for videos `part`, `part + parts`, ... of the dataset (the cache `job`'s
    training reads); returns how many videos that is. Run in every worker at once, before the runs start."""
    cache_dir = out_dir / "feature_cache" / settings.dataset.folder_name
    config = train_config(settings, job, manifest, out_dir / "runs" / job.method.key, cache_dir, trunk_weights)
    source = open_source(config.data.root, kind=config.data.kind, progress=False)
    cache = FeatureCache(cache_dir, source, build_embedder(config), config.data.image_size)
    indices = range(part, len(source), parts)
    cache.build(torch.device("cpu"), progress=False, indices=indices)
    return len(indices)


def build_trunk_cache(pool: ProcessPoolExecutor, settings: DemoSettings, job: Job, out_dir: Path, manifest: Path,
                      trunk_weights: str | None, parts: int, progress: bool) -> None:
    """The trunk features of every video, computed in the worker processes in `parts` shares (a bar over videos)."""
    futures = [pool.submit(build_trunk_cache_part, settings, job, out_dir, manifest, trunk_weights, k, parts)
               for k in range(parts)]
    with tqdm(total=len(load_manifest(manifest).videos), desc="trunk features", unit="video",
              disable=not progress) as bar:
        for future in as_completed(futures):
            bar.update(future.result())


def run_demo(settings: DemoSettings, out_dir: str | Path, seeds: int = 1, ablations: bool = False,
             workers: int = 2, threads: int = 1, progress: bool = True,
             log: Callable[[str], None] = print, jobs: int = 1) -> DemoRun:
    """Run (or continue) the comparison in `out_dir` with seeds `0..seeds-1`; finished jobs are read back.

    With `jobs > 1` the `jobs` worker processes (of `threads` threads each) first fill the shared trunk-feature
    cache together (`build_trunk_cache`), then take every run, longest first (`start_order`). Every run seeds
    itself, so the numbers do not depend on `jobs`.
    """
    if not isinstance(seeds, int) or seeds < 1:
        raise GtalignError(f"seeds must be an integer >= 1, got {seeds!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise GtalignError(f"jobs must be an integer >= 1, got {jobs!r}")
    out_dir = Path(out_dir)
    manifest = prepare_dataset(settings, out_dir, workers, progress)
    trunk = settings.training.model.trunk
    weights, trunk_note = local_trunk_weights(trunk)
    log(f"demo ({settings.name}): dataset {manifest}; {trunk_note}")
    pair = held_out_pair(manifest)
    run = DemoRun(out_dir, settings, manifest, trunk_note, list(range(seeds)))
    todo = jobs_for(settings, run.seeds, ablations)
    records: dict[int, dict[str, Any]] = {}
    if jobs == 1:
        bar = tqdm(total=len(todo), desc="demo runs", unit="run", disable=not progress)
        for k, job in enumerate(todo):
            bar.set_postfix(method=job.method.key, seed=job.seed)
            records[k] = run_job(settings, job, out_dir, manifest, weights, pair, threads, progress)
            bar.update()
    else:
        with ProcessPoolExecutor(jobs, mp_context=pool_context(), initializer=_init_worker,
                                 initargs=(threads,)) as pool:
            trunk_job = next(job for job in todo if job.method.key == TRUNK)
            build_trunk_cache(pool, settings, trunk_job, out_dir, manifest, weights, TRUNK_CACHE_PARTS * jobs,
                              progress)
            bar = tqdm(total=len(todo), desc="demo runs", unit="run", disable=not progress)
            futures = {pool.submit(run_job, settings, todo[k], out_dir, manifest, weights, pair, threads, False): k
                       for k in start_order(todo, list(range(len(todo))))}
            for future in as_completed(futures):
                k = futures[future]
                records[k] = future.result()
                bar.set_postfix(method=todo[k].method.key, seed=todo[k].seed)
                bar.update()
    bar.close()
    run.results = [records[k] for k in range(len(todo))]
    return run


def demo(settings: DemoSettings, out_dir: str | Path, seeds: int = 1, ablations: bool = False, workers: int = 2,
         threads: int = 1, progress: bool = True, log: Callable[[str], None] = print,
         jobs: int = 1) -> tuple[DemoRun, Path]:
    """The whole demo: run (or continue) every job, put the held-out pair in sync, write the report.

    Returns the run and the path of `report.html`; the table is in `table.md` next to it.
    """
    tic = time.perf_counter()
    run = run_demo(settings, out_dir, seeds, ablations, workers, threads, progress, log, jobs)
    showcase = build_showcase(run, progress=progress)
    return run, write_report(run, showcase, time.perf_counter() - tic)
