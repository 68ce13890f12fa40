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


NO_GIT = "git is not on PATH: the harness needs it to name and check out commits"


def _run(root: Path | None, args: tuple[str, ...], text: bool = True, env: Mapping[str, str] | None = None):
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=text, env=env)
    except FileNotFoundError:
        raise RunError(NO_GIT) from None


def git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """git's output (stripped) for `args` in `root`; GitFailed with its message when it fails."""
    proc = _run(root, args, env=env)
    if proc.returncode != 0:
        raise GitFailed(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def git_try(root: Path | None, *args: str) -> str | None:
    """git's output (stripped) for `args`, or None when git says no (a check, a best-effort cleanup)."""
    proc = _run(root, args)
    return proc.stdout.strip() if proc.returncode == 0 else None


def commit_of(root: Path | None, rev: str) -> str | None:
    """The commit a revision (hash, branch, tag, HEAD~1) names in `root`'s repository; None for none.
    RunError when the name is both a branch and a tag (or a remote branch) for different commits: git
    would pick one silently."""
    commit = git_try(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if commit and not rev.startswith("refs/"):
        named = {
            ref: target
            for ref in (f"refs/heads/{rev}", f"refs/tags/{rev}", f"refs/remotes/{rev}")
            if (target := git_try(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"))
        }
        if len(set(named.values())) > 1:
            raise RunError(
                f"{rev!r} is ambiguous: "
                + ", ".join(f"{r} is {c[:8]}" for r, c in named.items())
                + "; name one (e.g. heads/"
                + rev
                + " or tags/"
                + rev
                + ")"
            )
    return commit


def git_bytes(root: Path, *args: str) -> bytes:
    """git's raw output (NUL-separated listings); GitFailed with its message when it fails."""
    proc = _run(root, args, text=False)
    if proc.returncode != 0:
        raise GitFailed(f"git {' '.join(args)} failed in {root}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def git_popen(root: Path, *args: str, **kwargs) -> subprocess.Popen:
    """git running in the background (a blob streamed, a push in a session of its own)."""
    try:
        return subprocess.Popen(["git", *args], cwd=root, **kwargs)
    except FileNotFoundError:
        raise RunError(NO_GIT) from None


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
