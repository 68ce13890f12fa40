"""The engine's rounds of a run, kept beside its asv results so that the report can pair arms round by
round (asv stores one sample per round per arm but not which samples were taken together)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.store.layout import rounds_file
from bench.store.record import LISTS, STORED


def save(frame: pd.DataFrame, results_asv: Path, machine: str, commit: str, append: bool) -> Path:
    """Write (or with `append`, add after an earlier run's rounds, renumbered) atomically."""
    return write(frame, rounds_file(results_asv, machine, commit), append)


def write(frame: pd.DataFrame, path: Path, append: bool = False) -> Path:
    """The rounds of `frame` as a rounds file at `path` (save's format), atomically; with `append`, after
    the rounds stored there (renumbered)."""
    return _write(merged(load(path) if append and path.is_file() else None, frame, append), path)


def merged(base: pd.DataFrame | None, frame: pd.DataFrame, append: bool) -> pd.DataFrame:
    """`frame`'s rounds over a stored `base`: after all of it with `append`; otherwise in place of its rows
    of the same benchmark and parameters (the rest of `base` stays). Rounds renumbered after the base's."""
    frame = frame[[c for c in STORED if c in frame]].copy()
    if base is None or base.empty:
        return frame
    if not append:
        same = base.set_index(["benchmark", "params"]).index.isin(frame.set_index(["benchmark", "params"]).index)
        base = base[~same]
    frame["round"] = frame["round"] + (int(base["round"].max()) if len(base) else 0)
    return pd.concat([base, frame], ignore_index=True)


FORMAT = 2  # the rounds file's format, in its first column: a file of another is refused, not guessed at
# (files without the column, written before it, are format 1: the same columns, some missing)


TEXT = {"samples": "{:.6g}", "bracket": "{:.6g}", "after": "{}", "gap": "{:.4f}"}  # a per-sample field's
# entries in the file, space-separated (the record holds them as tuples: LISTS)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame[[c for c in STORED if c in frame]].copy()
    for col, form in TEXT.items():
        if col in frame:
            frame[col] = [" ".join(map(form.format, e)) if isinstance(e, tuple) else "" for e in frame[col]]
    frame["reason"] = frame["reason"].astype(str).str.replace(r"\s+", " ", regex=True).str[-300:]
    frame.insert(0, "format", FORMAT)
    files.write_text(path, frame.to_csv(index=False))
    return path


MAX_SECONDS = 1e6  # a per-call time beyond this (11 days) is not a measurement: a corrupt or made-up file


def load(path: Path) -> pd.DataFrame:
    """A rounds file, checked: the columns the engine writes, every ok row's value and samples a
    positive, finite per-call time (CorruptFile naming the file and row otherwise)."""
    text = {
        "arm": str,
        "benchmark": str,
        "key": str,
        "params": str,
        "samples": str,
        "bracket": str,
        "after": str,
        "gap": str,
        "reason": str,
    }
    try:
        frame = pd.read_csv(path, dtype=text)
    except (ValueError, pd.errors.ParserError) as exc:
        raise files.CorruptFile(f"{path}: not a rounds file ({exc})") from None
    if "format" in frame:
        found = set(pd.to_numeric(frame["format"], errors="coerce").dropna().astype(int)) if len(frame) else {FORMAT}
        if found != {FORMAT} or frame["format"].isna().any():
            raise files.CorruptFile(
                f"{path}: a rounds file of format {sorted(frame['format'].astype(str).unique())[:3]}; this "
                f"seqmnist-bench reads format {FORMAT} (and older files without the column)"
            )
        frame = frame.drop(columns="format")
    missing = [c for c in ("arm", "benchmark", "round", "value") if c not in frame]
    if missing:
        raise files.CorruptFile(f"{path}: not a rounds file (no column {', '.join(missing)})")
    if "status" not in frame:
        frame["status"] = "ok"
    for col in LISTS:  # rounds files older than a column lack it
        frame[col] = frame[col].fillna("") if col in frame else ""
    frame["reason"] = frame["reason"].fillna("") if "reason" in frame else ""
    frame["key"] = frame["key"].fillna("") if "key" in frame else ""
    frame["params"] = frame["params"].fillna("").astype(str) if "params" in frame else ""
    _check_rows(frame, path)
    _check_times(frame, path)
    for col in LISTS:
        parse = str if col == "after" else _seconds
        frame[col] = [tuple(parse(v) for v in str(text).split()) for text in frame[col]]
    return frame


def _check_rows(frame: pd.DataFrame, path: Path) -> None:
    """Every row names its arm and benchmark and has a whole positive round (CorruptFile otherwise)."""
    for col in ("arm", "benchmark"):
        empty = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
        if empty.any():
            raise files.CorruptFile(f"{path}: row {int(empty.idxmax()) + 2}: no {col}")
    rounds = pd.to_numeric(frame["round"], errors="coerce")
    bad = ~(rounds.notna() & (rounds >= 0) & (rounds == rounds.round()))
    if bad.any():
        row = int(bad.idxmax())
        raise files.CorruptFile(f"{path}: row {row + 2}: round {frame['round'][row]!r} is not a whole number")
    frame["round"] = rounds.astype(int)


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
