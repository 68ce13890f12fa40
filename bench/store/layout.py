"""Every path under results/, in one place."""

from __future__ import annotations

import re
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
    """Every paired round a run took for `commit` on `machine` (bench.store.record.Measurement rows)."""
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


COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a git commit hash (SHA-1 or SHA-256), all a stored commit may be
MACHINE_FILES = ("fingerprint.json", "noise.json", "reruns.json")  # results/meta/<machine>/: the machine's own


def misplaced(path: Path, data: object) -> str | None:
    """Why the stored JSON `data` does not belong at `path`, or None: a machine is its folder, and a
    commit its file name. asv/<machine>/machine.json must name that machine; asv/<machine>/<commit8>-*.json
    (asv results) that machine and a commit starting so; meta/<machine>/<commit8>.json (run metadata) the same.
    Every reader of stored results (merge, restore, load) applies this one rule."""
    folder, kind = path.parent.name, path.parent.parent.name
    named: object
    commit: object
    if not isinstance(data, dict):
        return "not a JSON object"
    if kind == "asv" and path.name == "machine.json":
        named, commit = data.get("machine"), ""
    elif kind == "asv":
        params = data.get("params")
        named, commit = (params.get("machine") if isinstance(params, dict) else None), data.get("commit_hash")
    elif kind == "meta" and path.name not in MACHINE_FILES:
        named, commit = data.get("machine"), data.get("commit")
    else:
        return None
    if named != folder:
        return f"names machine {str(named)[:60]!r}, but its folder is {folder!r}"
    if path.name == "machine.json":
        return None
    expected = commit[:8] if isinstance(commit, str) and COMMIT.fullmatch(commit) else None
    if expected is None or not (path.stem == expected if kind == "meta" else path.name.startswith(expected + "-")):
        return f"holds commit {str(commit)[:60]!r}, but its name is {path.name!r}"
    return None
