"""The checkout being measured: its root, git, what counts as uncommitted, and the environment its
child processes get."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from bench.core.errors import RunError


def find_root(start: Path) -> Path:
    """The folder holding asv.conf.json: `start` or one of its parents."""
    for folder in (start, *start.parents):
        if (folder / "asv.conf.json").is_file():
            return folder
    raise RunError(f"no asv.conf.json in {start} or its parents: run from the seqmnist-bench checkout")


class GitFailed(RunError):
    """A git command that ran and failed (an unknown revision, say), unlike git missing altogether."""


def git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """git's output (stripped) for `args` in `root`; GitFailed with its message when it fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise RunError("git is not on PATH: the harness needs it to name and check out commits") from None
    if proc.returncode != 0:
        raise GitFailed(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def dirty_tree(root: Path) -> bool:
    """Uncommitted changes to what is measured: results/ and Markdown (which the tool itself writes)
    do not count."""
    return bool(
        git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results", ":(exclude)*.md")
    )


def others_on_path(env: Mapping[str, str], root: Path) -> list[str]:
    """PYTHONPATH entries of `env` other than the checkout `root` (e.g. a framework plugin's folder)."""
    return [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != Path(root).resolve()]


def worker_env(root: Path, threads: int | None, base: dict | None = None) -> dict:
    """The environment of a measurement worker: the checkout `root` off PYTHONPATH (the worker puts
    the measured tree first itself; plugins' folders stay), the thread budget, TensorFlow quiet."""
    env = dict(os.environ if base is None else base)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(others_on_path(env, root))
    if threads:
        env["SEQMNIST_THREADS"] = str(threads)
    return env
