"""`seqmnist-bench merge DIR...`: other runners' results into this results folder."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from bench.cli.args import UsageError
from bench.core.repo import find_root
from bench.store import layout
from bench.store.lock import Lock
from bench.tasks import merge


def add_parser(sub) -> None:
    p = sub.add_parser(
        "merge",
        help="bring other runners' results (CI artifacts) into this results folder, one machine name per host",
        description="Copy results/asv/<machine>/ and results/meta/<machine>/ from each DIR (a results folder, "
        "or a folder holding results/) into --into, so that one `report` covers every machine. Refused, with "
        "nothing written, when a machine name would hold two hosts (fingerprints differ, or one side has "
        "none), when a stored file would be overwritten by different bytes, or when a source holds anything "
        "but regular results files of the expected names (links, devices, files over 32 MiB, corrupt JSON). "
        "All or nothing: the files are staged, then renamed into place. Exit status: 0 merged, 2 refused.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="results folders to merge from")
    p.add_argument("--into", help="results folder to merge into (default: this checkout's results/)")
    p.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:

    into = Path(args.into) if args.into else layout.results_dir(find_root(Path.cwd()))
    sources = [Path(d) for d in args.dirs]
    for source in sources:
        if not source.is_dir():
            raise UsageError(f"{source}: no such folder")
    into.mkdir(parents=True, exist_ok=True)
    with Lock(into.parent, "merge") if into.name == "results" else contextlib.nullcontext():
        plan = merge.plan(sources, into)
        merge.apply(plan, into)
    added = ", ".join(f"{m}: {n} result file(s)" for m, n in sorted(plan.machines.items())) or "no new results"
    print(f"merged into {into}: {added}; {len(plan.copies)} file(s) copied, {plan.same} already there")
    return 0
