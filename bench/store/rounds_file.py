"""The engine's rounds of a run, kept beside its asv results so that the report can pair arms round by
round (asv stores one sample per round per arm but not which samples were taken together)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.core import files
from bench.store.layout import rounds_file

COLUMNS = [
    "arm",
    "framework",
    "device",
    "benchmark",
    "param",
    "params",
    "key",
    "round",
    "value",
    "samples",
    "bracket",
    "after",
    "gap",
    "number",
    "unit",
    "status",
    "reason",
]


def save(frame: pd.DataFrame, results_asv: Path, machine: str, commit: str, append: bool) -> Path:
    """Write (or with `append`, add after an earlier run's rounds, renumbered) atomically."""
    path = rounds_file(results_asv, machine, commit)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame[[c for c in COLUMNS if c in frame]].copy()
    frame["reason"] = frame["reason"].astype(str).str.replace(r"\s+", " ", regex=True).str[-300:]
    if append and path.is_file():
        old = load(path)
        frame["round"] = frame["round"] + (int(old["round"].max()) if len(old) else 0)
        frame = pd.concat([old, frame], ignore_index=True)
    files.write_text(path, frame.to_csv(index=False))
    return path


def load(path: Path) -> pd.DataFrame:
    text = {"key": str, "samples": str, "bracket": str, "after": str, "gap": str, "reason": str}
    frame = pd.read_csv(path, dtype=text)
    for col in ("samples", "bracket", "after", "gap"):  # rounds files older than a column lack it
        frame[col] = frame[col].fillna("") if col in frame else ""
    frame["reason"] = frame["reason"].fillna("")
    frame["key"] = frame["key"].fillna("")
    return frame


def load_for(results_asv: Path, machine: str, commit: str) -> pd.DataFrame | None:
    path = rounds_file(results_asv, machine, commit)
    return load(path) if path.is_file() else None
