"""results/meta/<machine>/<commit>.json: a run's environment record, merged with an earlier run's of the
same commit."""

from __future__ import annotations

import json
from pathlib import Path

from bench.core import files
from bench.store import layout


def meta_path(root: Path, machine: str, commit: str) -> Path:
    return layout.meta_file(root, machine, commit)


def write_meta(root: Path, meta: dict) -> None:
    """Environment record of a run (versions, threads, CPU/GPU, skips), keyed by machine and commit."""
    path = meta_path(root, meta["machine"], meta["commit"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():  # an earlier run of this commit (other frameworks, or a compare round): merge
        old = files.read_json(path)  # a corrupt record stops the run (exit 2) rather than being replaced
        for key in ("frameworks", "skipped"):
            meta[key] = {**old.get(key, {}), **meta.get(key, {})}
        for key in ("chunks_done", "chunks_failed"):
            meta[key] = sorted(set(old.get(key, [])) | set(meta.get(key, [])))
        meta["benchmarks"] = meta.get("benchmarks") or old.get("benchmarks", {})
        if str(meta.get("data", "")).startswith("not needed") and old.get("data"):
            meta["data"] = old["data"]  # the data the stored accuracy was measured on, not this run's none
    files.write_text(path, json.dumps(meta, indent=2, sort_keys=True))
