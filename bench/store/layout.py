"""Every path under results/, in one place."""

from __future__ import annotations

from pathlib import Path


def asv_dir(root: Path) -> Path:
    return Path(root) / "results" / "asv"


def meta_dir(root: Path) -> Path:
    return Path(root) / "results" / "meta"


def meta_file(root: Path, machine: str, commit: str) -> Path:
    return meta_dir(root) / machine / f"{commit[:8]}.json"


def rounds_dir(results_asv: Path) -> Path:
    """results/rounds/, beside the asv results folder `results_asv` (results/asv)."""
    return Path(results_asv).parent / "rounds"


def rounds_file(results_asv: Path, machine: str, commit: str) -> Path:
    """Every paired round a run took for `commit` on `machine` (bench.measure.rounds.Measurement rows)."""
    return rounds_dir(results_asv) / machine / f"{commit[:8]}.csv"


def profiles_dir(root: Path, machine: str) -> Path:
    """results/profiles/<machine>/: one step breakdown file per commit, traces/ beside (not committed)."""
    return Path(root) / "results" / "profiles" / machine


def profile_file(root: Path, machine: str, commit: str) -> Path:
    return profiles_dir(root, machine) / f"{commit[:8]}.json"
