"""results/meta/<machine>/reruns.json: how far separate runs of the same code on this machine move
the ratios beyond their own intervals (bench.measure.estimate.between_runs). The report widens the
machine's published ratio intervals by it; `noise --between` writes it."""

from __future__ import annotations

import time
from pathlib import Path

from bench.core import files

NAME = "reruns.json"


def path(results: Path, machine: str) -> Path:
    """results: the results folder (holding asv/, meta/, rounds/)."""
    return Path(results) / "meta" / machine / NAME


def save(results: Path, machine: str, estimate: dict, sources: list[str], fingerprint_id: str | None) -> Path:
    target = path(results, machine)
    target.parent.mkdir(parents=True, exist_ok=True)
    files.write_json(
        target,
        {
            "machine": machine,
            "fingerprint_id": fingerprint_id,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "runs": sources,
            **estimate,
        },
    )
    return target


def tau(results: Path, machine: str) -> float:
    """The machine's run-to-run log sd of the ratios (0.0 when never measured); CorruptFile naming the file
    when it holds no such number (not a number, negative, NaN, or beyond MAX_TAU: no real machine's)."""
    target = path(results, machine)
    if not target.is_file():
        return 0.0
    value = files.read_json(target).get("tau", 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= MAX_TAU:
        raise files.CorruptFile(f"{target}: 'tau' {str(value)[:40]!r} is not a run-to-run log sd (0 to {MAX_TAU})")
    return float(value)


MAX_TAU = 0.5  # a log sd of 50% between runs: beyond it the file is not a measurement (1000 overflowed exp)
