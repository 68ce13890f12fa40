"""Every path under results/, in one place."""

from __future__ import annotations

from pathlib import Path


def results_dir(root: Path) -> Path:
    """results/ of the checkout at `root`."""
    return Path(root) / "results"


def asv_dir(root: Path) -> Path:
    return results_dir(root) / "asv"


def benchmarks_file(root: Path) -> Path:
    """asv's description of every benchmark (parameter names, units, versions), beside its results."""
    return asv_dir(root) / "benchmarks.json"


def meta_dir(root: Path) -> Path:
    return results_dir(root) / "meta"


def run_meta_dir(root: Path, machine: str) -> Path:
    """results/meta/<machine>/: each run's metadata, the host fingerprint, noise and rerun figures."""
    return meta_dir(root) / machine


def fingerprint_file(root: Path, machine: str) -> Path:
    return run_meta_dir(root, machine) / "fingerprint.json"


def noise_file(root: Path, machine: str) -> Path:
    return run_meta_dir(root, machine) / "noise.json"


def lock_file(root: Path) -> Path:
    return results_dir(root) / ".lock"


def compare_dir(root: Path, machine: str, base: str, head: str) -> Path:
    """results/compare/<machine>/<base>-<head>/: one paired comparison's report and asv files."""
    return results_dir(root) / "compare" / machine / f"{base[:8]}-{head[:8]}"


def bisect_file(root: Path, machine: str, good: str, bad: str) -> Path:
    return results_dir(root) / "bisect" / machine / f"{good[:8]}-{bad[:8]}.md"


def meta_file(root: Path, machine: str, commit: str) -> Path:
    return meta_dir(root) / machine / f"{commit[:8]}.json"


def rounds_dir(results_asv: Path) -> Path:
    """results/rounds/, beside the asv results folder `results_asv` (results/asv)."""
    return Path(results_asv).parent / "rounds"


def rounds_file(results_asv: Path, machine: str, commit: str) -> Path:
    """Every paired round a run took for `commit` on `machine` (bench.measure.rounds.Measurement rows)."""
    return rounds_dir(results_asv) / machine / f"{commit[:8]}.csv"


def settings_file(root: Path, machine: str, commit: str, space: str, suffix: str) -> Path:
    """results/settings/<machine>/<commit>-<space>.csv (its rounds) and .json (what was skipped, and why):
    one `settings` run of the open division's system settings."""
    return results_dir(root) / "settings" / machine / f"{commit[:8]}-{space}{suffix}"


def profiles_dir(root: Path, machine: str) -> Path:
    """results/profiles/<machine>/: one step breakdown file per commit, traces/ beside (not committed)."""
    return results_dir(root) / "profiles" / machine


def profile_file(root: Path, machine: str, commit: str) -> Path:
    return profiles_dir(root, machine) / f"{commit[:8]}.json"
