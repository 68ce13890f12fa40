"""The engine's rounds of a run, kept beside its asv results so that the report can pair arms round by
round (asv stores one sample per round per arm but not which samples were taken together)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.store.layout import rounds_file
from bench.store.record import STORED


def save(frame: pd.DataFrame, results_asv: Path, machine: str, commit: str, append: bool) -> Path:
    """Write (or with `append`, add after an earlier run's rounds, renumbered) atomically."""
    return write(frame, rounds_file(results_asv, machine, commit), append)


def write(frame: pd.DataFrame, path: Path, append: bool = False) -> Path:
    """The rounds of `frame` as a rounds file at `path` (save's format), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame[[c for c in STORED if c in frame]].copy()
    frame["reason"] = frame["reason"].astype(str).str.replace(r"\s+", " ", regex=True).str[-300:]
    if append and path.is_file():
        old = load(path)
        frame["round"] = frame["round"] + (int(old["round"].max()) if len(old) else 0)
        frame = pd.concat([old, frame], ignore_index=True)
    files.write_text(path, frame.to_csv(index=False))
    return path


MAX_SECONDS = 1e6  # a per-call time beyond this (11 days) is not a measurement: a corrupt or made-up file


def load(path: Path) -> pd.DataFrame:
    """A rounds file, checked: the columns the engine writes, every ok row's value and samples a
    positive, finite per-call time (CorruptFile naming the file and row otherwise)."""
    text = {"key": str, "samples": str, "bracket": str, "after": str, "gap": str, "reason": str}
    try:
        frame = pd.read_csv(path, dtype=text)
    except (ValueError, pd.errors.ParserError) as exc:
        raise files.CorruptFile(f"{path}: not a rounds file ({exc})") from None
    missing = [c for c in ("arm", "benchmark", "round", "value") if c not in frame]
    if missing:
        raise files.CorruptFile(f"{path}: not a rounds file (no column {', '.join(missing)})")
    if "status" not in frame:
        frame["status"] = "ok"
    for col in ("samples", "bracket", "after", "gap"):  # rounds files older than a column lack it
        frame[col] = frame[col].fillna("") if col in frame else ""
    frame["reason"] = frame["reason"].fillna("") if "reason" in frame else ""
    frame["key"] = frame["key"].fillna("") if "key" in frame else ""
    _check_times(frame, path)
    return frame


def _check_times(frame: pd.DataFrame, path: Path) -> None:
    ok = frame[frame.status == "ok"]
    value = pd.to_numeric(ok.value, errors="coerce")
    for (row, v), samples in zip(value.items(), ok.samples):
        numbers = [v, *map(_seconds, str(samples).split())]
        if not all(0 < x < MAX_SECONDS for x in numbers):  # NaN (unparsable) fails too
            raise files.CorruptFile(
                f"{path}: row {row + 2}: value {ok.value[row]!r} / samples {str(samples)[:60]!r} are not "
                f"per-call seconds (positive, finite, below {MAX_SECONDS:g})"
            )


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def load_for(results_asv: Path, machine: str, commit: str) -> pd.DataFrame | None:
    path = rounds_file(results_asv, machine, commit)
    return load(path) if path.is_file() else None
