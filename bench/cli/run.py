"""`seqmnist-bench run`: the rounds and the asv suite, then the comparison table."""

from __future__ import annotations

import argparse
import sys

from bench.cli.args import add_fresh_processes, add_measure_args, non_negative, positive, positive_float
from bench.core.errors import RunError
from bench.core.repo import find_root
from bench.measure.estimate import CELL_TARGET, RATIO_TARGET
from bench.measure.stats import MIN_ROUNDS
from bench.report import latest_tables, load_results
from bench.store import layout
from bench.store.lock import Lock
from bench.tasks.run import RunOptions, run_suite
from bench.tasks.selection import ALTERNATIONS, ASV_RESERVE, BUDGET, QUICK_RUN


def _pct(fraction: float) -> str:
    """'8%%': a fraction as argparse's help prints it (one % sign)."""
    return f"{fraction * 100:.0f}%%"


QUICK = (
    f"the throughput question only: rounds of the train step and predict at batch 128 with {ALTERNATIONS[True]} "
    f"samples of each per framework and round (a full run: every batch size, {ALTERNATIONS[False]}), a ratio target "
    f"of ±{_pct(RATIO_TARGET[True])}, then cold start (asv --quick); accuracy, memory, the variants and the baseline "
    "(minimal loop, host matmul) are the full run's (a full run, or --bench naming them, e.g. --quick --bench "
    "accuracy: 1 epoch from 1 seed) (minutes)"
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="measure every available framework and device (rounds, then asv), then print the table",
        description="Measure throughput in rounds (each round one fresh process per framework, one at a time with "
        "nothing else alive, in random order; progress per round on stderr), then cold start, memory and "
        "accuracy with asv. Results go to results/asv/<machine>/ (asv format, one sample per round), every "
        "round to results/rounds/<machine>/, run metadata to results/meta/<machine>/. A run adds to what is "
        "stored for this commit: a full run adds its rounds to an earlier full run's, a quick run never replaces a "
        "full result, and each stored benchmark names the run that measured it. One run, compare or noise "
        "at a time per checkout. Exit status: 0 every benchmark ran, 1 a benchmark failed, 2 bad input "
        "(or another command holds the checkout), 130 interrupted (what finished is kept).",
    )
    add_measure_args(p, QUICK)
    p.add_argument(
        "--rounds",
        "--processes",
        dest="processes",
        type=non_negative,
        default=None,
        metavar="N",
        help="rounds behind each throughput cell: each round starts one fresh process per framework, one at a "
        "time, each staged and timed alone; every ratio to torch is the mean over rounds of the two "
        f"processes' log ratio. Default: adaptive, from {MIN_ROUNDS} rounds until the widths below are met; N: exactly N "
        "rounds; 0: asv's single process per cell, no rounds and no ratios",
    )
    p.add_argument(
        "--max-rounds",
        type=positive,
        default=40,
        help=f"adaptive rounds stop once every ratio's 95%% interval, as published (this machine's run-to-run "
        f"term included where `noise --between` measured it), is within ±{_pct(RATIO_TARGET[False])} "
        f"(±{_pct(RATIO_TARGET[True])} with --quick) and every cell's within ±{_pct(CELL_TARGET)}, at this many "
        "rounds, or at --budget (default 40)",
    )
    p.add_argument(
        "--budget",
        type=positive_float,
        default=None,
        help=f"seconds of rounds before stopping with the widths reached (default {BUDGET:.0f}; with "
        f"--quick, what is left of {QUICK_RUN / 60:.0f} minutes for the whole run after what came before the rounds "
        f"and {ASV_RESERVE:.0f} s kept for its asv part). Rounds stop when the next would not fit; adaptive rounds "
        f"take at least {MIN_ROUNDS} whatever it says. The table says which intervals are wider than their target",
    )
    add_fresh_processes(p)
    p.add_argument("--show-stderr", action="store_true", help="show benchmark output (asv --show-stderr)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:

    opts = run_options(
        args,
        show_stderr=args.show_stderr,
        processes=args.processes,
        max_rounds=args.max_rounds,
        budget=args.budget,
        fresh_processes=args.fresh_processes,
    )
    with Lock(find_root(opts.root), "run"):
        summary = run_suite(opts)
    try:
        _print_summary_table(summary.root, summary.machine)
    except RunError as exc:  # what was measured is stored: the table is not what decides the exit
        print(f"warning: the summary table cannot be shown: {exc}", file=sys.stderr)
    if summary.chunks_failed:
        print(f"some benchmarks failed in: {', '.join(summary.chunks_failed)} (see asv output above)", file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.chunks_failed else 0


def _print_summary_table(root, machine: str) -> None:
    """The comparison table of the newest results on `machine` (the report's summary)."""

    frame = load_results(layout.asv_dir(root), machine=machine)  # another machine's files never decide the exit
    for key, table in latest_tables(frame, machine=machine).items():
        print(f"\n## {key}\n")
        print(table)


def run_options(args: argparse.Namespace, **extra):
    """RunOptions from the arguments add_measure_args defined."""

    return RunOptions(
        quick=args.quick,
        frameworks=tuple(args.frameworks),
        devices=tuple(args.devices),
        bench=args.bench,
        machine=args.machine,
        data_dir=args.data_dir,
        threads=args.threads,
        **extra,
    )
