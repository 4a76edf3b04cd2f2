"""`results.json`: the numbers of one protocol run on one set of embeddings, with where they came from."""
from __future__ import annotations

import datetime
import hashlib
import json
import re
from pathlib import Path
from typing import Iterable

from gtalign.errors import GtalignError
from gtalign.evaluate.protocol_result import ProtocolResult, jsonable
from gtalign.io import read_json, write_json

FORMAT = "gtalign-results"
VERSION = 1


def config_hash(config: dict) -> str:
    """A short stable hash of a configuration (key order does not matter)."""
    text = json.dumps(jsonable(config), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def write_results(path: str | Path, protocol: str, numbers: ProtocolResult | dict, *, method: str, dataset: str,
                  split: str, checkpoint: str = "", options: dict | None = None, seconds: float = 0.0) -> Path:
    """Write one protocol's results (a typed result, or its JSON object) atomically; returns the path.

    The config hash covers protocol, options, checkpoint, dataset and split: equal hashes mean comparable runs.
    """
    config = {"protocol": protocol, "options": options or {}, "checkpoint": checkpoint, "dataset": dataset,
              "split": split}
    if isinstance(numbers, ProtocolResult):
        numbers = numbers.to_json()
    record = {"format": FORMAT, "version": VERSION, "method": method, "protocol": protocol, "dataset": dataset,
              "split": split, "checkpoint": checkpoint, "options": jsonable(options or {}),
              "config_hash": config_hash(config), "numbers": jsonable(numbers), "seconds": float(seconds),
              "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    write_json(path, record)
    return Path(path)


def results_filename(method: str, dataset: str, protocol: str) -> str:
    """`<method>__<dataset>__<protocol>.json` with characters unsafe in file names replaced."""
    safe = [re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "unnamed" for s in (method, dataset, protocol)]
    return "__".join(safe) + ".json"


def load_results(paths: Iterable[str | Path]) -> list[dict]:
    """Read results files (folders are searched for `*.json`), oldest first."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    records = []
    for f in files:
        data = read_json(f, "results file")
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise GtalignError(f"{f} is not a gtalign results file (expected \"format\": \"{FORMAT}\")")
        records.append(data)
    if not records:
        raise GtalignError(f"no results files found in {[str(p) for p in paths]}")
    return sorted(records, key=lambda r: r.get("created", ""))
