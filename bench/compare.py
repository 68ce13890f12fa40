"""`seqmnist-bench compare BASE HEAD`: measure two commits on this machine, then give the verdict.

asv will not run a commit range in an existing environment (nor `asv continuous`), so each
revision is checked out in its own git worktree and run with --set-commit-hash, its code put
first on the path through ASV_PYTHONPATH. Rounds alternate base and head so that drift of the
machine (thermal, background load) hits both sides alike; later rounds append timing samples.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .runner import RunError, RunOptions, find_root, git, run_suite


@dataclass
class CompareOptions:
    base: str
    head: str
    rounds: int = 2
    run: RunOptions = field(default_factory=RunOptions)


def resolve(root: Path, rev: str) -> str:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except RunError:
        raise RunError(f"unknown revision {rev!r}") from None


def worktree_config(worktree: Path, root: Path) -> Path:
    """An asv config for a worktree: its benchmarks and repo, this checkout's results folder."""
    from asv.util import load_json

    conf = load_json(str(worktree / "asv.conf.json"), js_comments=True)
    conf.update(
        repo=str(worktree),
        benchmark_dir=str(worktree / conf.get("benchmark_dir", "bench/suites")),
        results_dir=str(root / "results" / "asv"),
        html_dir=str(root / "results" / "html"),
        env_dir=str(worktree / ".asv" / "env"),
    )
    path = worktree / ".asv-compare.json"
    path.write_text(json.dumps(conf, indent=2))
    return path


def measure(opts: CompareOptions) -> tuple[str, str, str]:
    """Run both revisions for opts.rounds rounds; return (machine, base hash, head hash)."""
    if opts.rounds < 1:
        raise RunError(f"--rounds must be >= 1, got {opts.rounds}")
    root = find_root(opts.run.root)
    if git(root, "status", "--porcelain", "--untracked-files=no"):
        raise RunError(
            "the working tree has uncommitted changes: compare measures commits, and neither revision "
            "would include them. Commit (or stash) first, then compare."
        )
    base, head = resolve(root, opts.base), resolve(root, opts.head)
    if base == head:
        raise RunError(f"{opts.base} and {opts.head} are the same commit {base[:8]}")
    tmp = Path(tempfile.mkdtemp(prefix="seqmnist-compare-"))
    trees = {}
    try:
        for name, commit in (("base", base), ("head", head)):
            trees[commit] = tmp / name
            git(root, "worktree", "add", "--detach", str(trees[commit]), commit)
            if not (trees[commit] / "asv.conf.json").is_file():
                raise RunError(f"{commit[:8]} has no asv.conf.json: it predates the benchmark suite")
        machine = None
        for round_no in range(1, opts.rounds + 1):
            for commit in (base, head):
                label = "base" if commit == base else "head"
                print(f"== round {round_no}/{opts.rounds}: {label} {commit[:8]}", file=sys.stderr, flush=True)
                tree = trees[commit]
                summary = run_suite(replace(
                    opts.run,
                    root=tree,
                    commit=commit,
                    config=worktree_config(tree, root),
                    meta_root=root,
                    record_samples=True,
                    append_samples=round_no > 1,
                    skip_accuracy=round_no > 1,
                ))
                machine = summary.machine
                if summary.interrupted:
                    raise KeyboardInterrupt
        return machine, base, head
    finally:
        for tree in trees.values():
            git(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tmp, ignore_errors=True)
