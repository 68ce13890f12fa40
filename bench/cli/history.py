"""`seqmnist-bench history restore|save`: the benchmark history kept on a git branch (CI's long-term store)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli.args import UsageError
from bench.core.repo import find_root
from bench.store.lock import Lock
from bench.tasks import history


def add_parser(sub) -> None:
    p = sub.add_parser(
        "history",
        help="keep the benchmark history on a git branch: restore it into results/, or save this machine's there",
        description="The history of every machine lives on a git branch (default benchmark-results), not in a "
        "cache that expires. `restore` fetches the branch and merges every machine's results into results/ "
        "(merge's rules: regular files only, never an overwrite, all or nothing; no branch yet: nothing to do). "
        "The branch is read as untrusted input: a link, a submodule, a file of a name merge does not know, "
        "over 32 MiB or not a JSON object where JSON belongs is refused, naming its path on the branch. "
        "`save --machine M` adds M's results (results/asv/M, meta/M, rounds/M, profiles/M and new "
        "benchmarks.json entries) to the branch and pushes: it never removes or rewrites a file the branch "
        "holds (it says which it kept), and pushes only files restore accepts. When another runner pushed "
        "first it fetches and redoes the commit, up to --retries times. Interrupted during the push, it says "
        "whether the push landed. Exit status: 0 done, 2 refused (a merge conflict, no results for M, "
        "something on the branch restore refuses, git or the remote failing), 130 interrupted.",
    )
    p.add_argument("action", choices=["restore", "save"])
    p.add_argument("--branch", default="benchmark-results", help="the history branch (default benchmark-results)")
    p.add_argument("--remote", default="origin", help="the remote holding it: a name or URL (default origin)")
    p.add_argument("--machine", help="save: the machine whose results are saved (required)")
    p.add_argument("--retries", type=int, default=5, help="save: attempts when the branch moves meanwhile (default 5)")
    p.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:

    root = find_root(Path.cwd())
    if args.action == "save" and not args.machine:
        raise UsageError("history save needs --machine: the machine whose results go to the branch")
    if args.retries < 1:
        raise UsageError(f"--retries must be >= 1, got {args.retries}")
    with Lock(root, f"history {args.action}"):
        if args.action == "restore":
            plan = history.restore(root, args.remote, args.branch)
            if plan is None:
                print(f"no branch {args.branch!r} on {args.remote!r} yet: nothing to restore", file=sys.stderr)
                return 0
            added = ", ".join(f"{m}: {n}" for m, n in sorted(plan.machines.items())) or "nothing new"
            print(f"restored from {args.branch}: {len(plan.copies)} file(s) copied, {plan.same} already here ({added})")
            return 0
        saved = history.save(
            root, args.machine, args.remote, args.branch, args.retries, log=lambda m: print(m, file=sys.stderr)
        )
    if saved.kept:
        print(f"kept the branch's own version of {len(saved.kept)} file(s) that differ here (save never "
              f"rewrites the branch): {', '.join(saved.kept[:5])}{' ...' if len(saved.kept) > 5 else ''}",
              file=sys.stderr)  # fmt: skip
    if saved.commit is None:
        print(f"{args.branch} already holds these results of {args.machine}: nothing to save")
    else:
        print(f"saved {saved.files} file(s) of {args.machine} to {args.branch} as {saved.commit[:8]} "
              f"(attempt {saved.attempts})")  # fmt: skip
    return 0
