"""`seqmnist-bench open-division`: each framework's best equivalent configuration, chosen by interval.
The run and the profiles are bench/tasks/open_division.py's; the choice is the report's rule, read from
what the run stored: this command is where the two layers meet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli.args import Unique, non_negative, positive, positive_float
from bench.core.repo import find_root
from bench.report import commit_rows, load_results
from bench.report.open_division import CLOSED, choose, open_table
from bench.store import layout
from bench.store.lock import Lock
from bench.tasks import open_division
from bench.tasks.open_division import BENCH
from impls import DEVICES, FRAMEWORKS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "open-division",
        help="search each framework's variants for its fastest equivalent configuration (rounds)",
        description="Measure every candidate of each framework's search space (its variants: library LSTM, "
        "per-step cell, compiled or jit-compiled, scan unrolling; each proven equivalent by the float64 check of "
        "tests/impls) against the framework's closed row (the 'fused' variant), train step at batch 128, in "
        "rounds: all candidates in one fresh process per framework per round, the frameworks one at a time, the "
        "candidates' samples alternating. The "
        "open row is the fastest candidate whose 95% interval of the ratio to the closed row lies above 1; "
        "otherwise the closed row stands. Results are stored as `run` stores them (this is `run --bench "
        f"'{BENCH}'`) and shown by `report` beside the closed rows. Exit status as `run`.",
    )
    p.add_argument("--frameworks", nargs="+", action=Unique, default=list(FRAMEWORKS), metavar="NAME")
    p.add_argument("--devices", nargs="+", action=Unique, default=["cpu"], choices=DEVICES)
    p.add_argument("--machine", help="machine name the results go under (default: the host name)")
    p.add_argument(
        "--rounds",
        dest="processes",
        type=non_negative,
        default=None,
        metavar="N",
        help="exactly N paired rounds (default: adaptive until the intervals are narrow or --budget)",
    )
    p.add_argument("--max-rounds", type=positive, default=40)
    p.add_argument("--budget", type=positive_float, default=None, help="seconds of rounds (default: run's)")
    p.add_argument("--threads", type=positive, default=None, help="CPU threads per framework (default: all)")
    p.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="do not profile the open rows that differ from their closed rows (default: `profile --variant "
        "<chosen>` for each, batch 32, 128 and 1024, stored beside the closed rows' breakdowns)",
    )
    p.set_defaults(func=cmd_open_division)


def cmd_open_division(args: argparse.Namespace) -> int:
    with Lock(find_root(Path.cwd()), "run"):  # the rounds and the profiles after them, one command
        return _open_division(args)


def _open_division(args: argparse.Namespace) -> int:
    summary = open_division.measure(
        open_division.OpenDivisionOptions(
            frameworks=tuple(args.frameworks),
            devices=tuple(args.devices),
            machine=args.machine,
            threads=args.threads,
            processes=args.processes,
            max_rounds=args.max_rounds,
            budget=args.budget,
        )
    )
    frame = load_results(layout.asv_dir(summary.root))
    open_rows = []
    for device in args.devices:
        chosen = choose(commit_rows(frame, summary.machine, summary.commit, device))
        table = open_table(chosen)
        if not table.empty:
            print(f"\n## {summary.machine} {device} @ {summary.commit[:8]}: closed and open division\n")
            print(table.to_markdown())
            open_rows += [(r.framework, r.chose, device) for r in chosen.itertuples() if r.chose != CLOSED]
    if args.profile and open_rows and not summary.interrupted:
        log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        for text in open_division.profile_open_rows(summary, open_rows, args.threads, log):
            print(f"\n{text}")
    if summary.chunks_failed:
        print(f"some benchmarks failed in: {', '.join(summary.chunks_failed)}", file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.chunks_failed else 0
