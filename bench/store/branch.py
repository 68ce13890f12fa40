"""Benchmark history on a git branch (`benchmark-results`), so it outlives any cache: each runner commits
its own machine's results there after a run on main (retrying when another runner pushed first), and
`history restore` merges every machine's results from the branch into results/ before a run or a page.

The branch holds only results/asv/<machine>/, results/meta/<machine>/, results/rounds/<machine>/,
results/profiles/<machine>/ (without the local traces/) and
results/asv/benchmarks.json; a runner replaces its own machine's folders and adds to benchmarks.json, so
two runners never touch the same file but that one, which is merged.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.core import files
from bench.core.errors import RunError
from bench.core.repo import GitFailed, git
from bench.store import merge
from bench.store.fingerprint import kept_apart

SUBFOLDERS = tuple(merge.FILES)  # asv, meta, rounds, profiles: what a machine keeps, as merge reads it


@dataclass
class Saved:
    commit: str | None  # the branch commit made (None: nothing new)
    attempts: int
    files: int


def fetch(root: Path, remote: str, branch: str) -> str | None:
    """The branch's newest commit on `remote` (fetched), None when the branch does not exist yet."""
    try:
        git(root, "fetch", "--quiet", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
    except GitFailed as exc:
        if "couldn't find remote ref" in str(exc) or "could not find remote ref" in str(exc).lower():
            return None
        raise RunError(f"cannot fetch the history branch {branch!r} from {remote!r}: {exc}") from None
    return git(root, "rev-parse", f"refs/remotes/{remote}/{branch}")


def restore(root: Path, remote: str = "origin", branch: str = "benchmark-results") -> merge.Plan | None:
    """Merge every machine's results on the branch into root/results (merge's rules: regular files only,
    never an overwrite, all or nothing); None when the branch does not exist yet."""
    head = fetch(root, remote, branch)
    if head is None:
        return None
    with tempfile.TemporaryDirectory(prefix="seqmnist-history-") as tmp:
        archive = subprocess.run(["git", "archive", head, "results"], cwd=root, capture_output=True)
        if archive.returncode != 0:
            raise RunError(f"branch {branch!r} holds no results/ folder: {archive.stderr.decode()[-300:]}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        into = root / "results"
        into.mkdir(exist_ok=True)
        plan = merge.plan([Path(tmp) / "results"], into)
        merge.apply(plan, into)
        return plan


def save(
    root: Path,
    machine: str,
    remote: str = "origin",
    branch: str = "benchmark-results",
    retries: int = 5,
    log=lambda m: None,
) -> Saved:
    """Commit this machine's results to the branch and push; on a rejected push (another runner was
    first) fetch again and redo the commit on top, up to `retries` times."""
    machines = keys_of(root, machine)
    if not machines:
        raise RunError(f"no results for machine {machine!r} under {root / 'results' / 'asv'}: nothing to save")
    source = git(root, "rev-parse", "--short=8", "HEAD")
    for attempt in range(1, retries + 1):
        head = fetch(root, remote, branch)
        with tempfile.TemporaryDirectory(prefix="seqmnist-history-") as tmp:
            tree = Path(tmp) / "tree"
            git(root, "worktree", "add", "--quiet", "--detach", str(tree), head or "HEAD")
            try:
                if head is None:  # the first save: a branch of its own with no project files
                    git(tree, "checkout", "--quiet", "--orphan", f"seqmnist-history-{attempt}")
                    git(tree, "rm", "-r", "--quiet", "--force", "--cached", ".")
                    for entry in tree.iterdir():
                        if entry.name != ".git":
                            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                copied = sum(_copy_machine(root, tree, m) for m in machines)
                git(tree, "add", "--all", "results")
                if not git(tree, "status", "--porcelain"):
                    return Saved(None, attempt, 0)
                git(
                    tree, "-c", "user.name=seqmnist-bench", "-c", "user.email=seqmnist-bench@users.noreply.invalid",
                    "commit", "--quiet", "-m", f"results of {machine} measuring {source}",
                )  # fmt: skip
                made = git(tree, "rev-parse", "HEAD")
                pushed = subprocess.run(
                    ["git", "push", "--quiet", remote, f"HEAD:refs/heads/{branch}"], cwd=tree, capture_output=True,
                    text=True,
                )  # fmt: skip
                if pushed.returncode == 0:
                    return Saved(made, attempt, copied)
                if not _rejected(pushed.stderr):
                    raise RunError(f"cannot push the history branch {branch!r} to {remote!r}: {pushed.stderr.strip()}")
                log(f"history: {branch} moved while saving (attempt {attempt}/{retries}); fetching it again")
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True)
                subprocess.run(["git", "branch", "-D", f"seqmnist-history-{attempt}"], cwd=root, capture_output=True)
        time.sleep(min(2**attempt, 30) * 0.1)
    raise RunError(f"the history branch {branch!r} kept moving: not saved after {retries} attempts")


def keys_of(root: Path, machine: str) -> list[str]:
    """The machine keys results of `machine` went under: the name itself and `name-<fingerprint id>`
    (another host under the name, kept apart by run: a CI label's hosts can change)."""
    asv = root / "results" / "asv"
    pattern = re.compile(f"{re.escape(machine)}|{kept_apart(machine)}")
    return sorted(p.name for p in asv.iterdir() if p.is_dir() and pattern.fullmatch(p.name)) if asv.is_dir() else []


def _rejected(stderr: str) -> bool:
    text = stderr.lower()
    return any(s in text for s in ("non-fast-forward", "fetch first", "rejected", "stale info"))


def _copy_machine(root: Path, tree: Path, machine: str) -> int:
    """Replace the tree's folders of `machine` with root's, add root's benchmarks.json entries; files copied."""
    n = 0
    for sub in SUBFOLDERS:
        src, dest = root / "results" / sub / machine, tree / "results" / sub / machine
        if dest.exists():
            shutil.rmtree(dest)
        if not src.is_dir():
            continue
        for path in sorted(src.iterdir()):
            if path.is_file() and not path.is_symlink():
                files.write_bytes(dest / path.name, path.read_bytes())
                n += 1
    ours = root / "results" / "asv" / "benchmarks.json"
    if ours.is_file():
        target = tree / "results" / "asv" / "benchmarks.json"
        theirs = files.read_json(target) if target.is_file() else {}
        mine = files.read_json(ours)
        files.write_json(target, {**mine, **theirs}, indent=4, sort_keys=True)  # theirs kept: never rewritten
        n += 1
    return n
