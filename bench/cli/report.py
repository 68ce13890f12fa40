"""`seqmnist-bench report`: tables, plots, the page and regression verdicts from stored results."""

from __future__ import annotations

import argparse

from bench.cli.args import add_report_args, regex
from bench.tasks.report import ReportOptions, run_report


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="tables, plots and regression verdicts from results/asv",
        description="Write results/report/ (index.html: the self-contained results page; results.csv, latest.md/.csv, PNG plots), refresh the "
        "README's CPU table, and compare two revisions on one machine. Exit status: 1 with "
        "--fail-on-regression when a regression is found or with --fail-on-change-point when the newest commit starts "
        "a worse step, 2 for bad arguments, no results, or a stored "
        "file that cannot be read (named; see --skip-corrupt).",
    )
    add_report_args(p)
    p.add_argument("--no-plots", action="store_true", help="skip the matplotlib plots")
    p.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="publish without the stored files that cannot be read (default: exit 2 naming the first); the page "
        "lists what was skipped and the README is left as it was",
    )
    p.add_argument(
        "--readme",
        help="README whose results markers are refreshed with the newest complete full "
        "CPU run (default: the checkout's README.md when --results is its results/asv; '' to skip)",
    )
    p.add_argument(
        "--fail-on-change-point",
        action="store_true",
        help="exit 1 when the newest commit of a series (of --machine, or of any machine) starts a step the worse "
        "way (main's CI: annotated on GitHub Actions)",
    )
    p.add_argument(
        "--allow-gone",
        metavar="REGEX",
        type=regex,
        help="a benchmark that ran at --base and is skipped or missing at --head fails --fail-on-regression (as "
        "in `compare`) unless this regex on 'benchmark(params)' names it as removed on purpose; one the head's "
        "run did not select (--bench, --quick) is 'not measured' and fails nothing",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    opts = ReportOptions(
        results=args.results,
        out=args.out,
        readme=args.readme,
        machine=args.machine,
        base=args.base,
        head=args.head,
        threshold=args.threshold,
        fail_on_regression=args.fail_on_regression,
        fail_on_change_point=args.fail_on_change_point,
        allow_gone=args.allow_gone,
        skip_corrupt=args.skip_corrupt,
        plots=not args.no_plots,
    )
    return run_report(opts)
