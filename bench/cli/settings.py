"""`seqmnist-bench settings`: the open division's system settings (the allocator), each framework's gain
over its plain process with an interval. The rounds are bench/tasks/settings.py's; the gains are the
report's rule (bench.report.settings), read back from what the run stored."""

from __future__ import annotations

import argparse
import sys

from bench.cli.args import Unique, positive
from bench.core.repo import find_root
from bench.measure.settings import SEARCH_SPACES
from bench.report import settings as report_settings
from bench.store.lock import Lock
from bench.tasks import settings
from impls import FRAMEWORKS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "settings",
        help="open division: what each allocator buys each framework, paired against its plain process",
        description="For each framework, its closed row (a plain process: glibc's malloc with its defaults, no "
        "preloaded library, no framework flags) and one fresh process per candidate of the search space, all "
        "alive together in each round, every candidate's sample taken between two of the closed row's (train "
        "step and predict at batch 128). The allocator space: glibc with fixed mmap/trim thresholds, jemalloc "
        "and tcmalloc preloaded (Debian's libjemalloc2 and libtcmalloc-minimal4; a library that is not "
        "installed is skipped, saying so). Stored under results/settings/; `report` shows each gain with its "
        "95% interval, and an open row only where that interval proves it faster. Exit status: 0 done, 2 bad "
        "input, 130 interrupted (the frameworks that finished are kept).",
    )
    p.add_argument("--frameworks", nargs="+", action=Unique, default=list(FRAMEWORKS), metavar="NAME")
    p.add_argument("--space", default="allocator", choices=sorted(SEARCH_SPACES), help="the search space")
    p.add_argument("--rounds", type=positive, default=6, metavar="N", help="paired rounds per framework (default 6)")
    p.add_argument("--machine", help="machine name the results go under (default: the host name)")
    p.add_argument("--threads", type=positive, default=None, help="CPU threads per framework (default: all)")
    p.set_defaults(func=cmd_settings)


def cmd_settings(args: argparse.Namespace) -> int:
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    opts = settings.SettingsOptions(
        frameworks=tuple(args.frameworks),
        space=args.space,
        rounds=args.rounds,
        machine=args.machine,
        threads=args.threads,
    )
    with Lock(find_root(opts.root), "run"):
        summary = settings.run(opts, log=log)
    if summary.rounds_path.is_file():
        found = report_settings.read(summary.rounds_path)
        print(
            f"\n## {summary.machine} @ {summary.commit[:8]}: {args.space}, gain over each framework's plain process\n"
        )
        print(report_settings.table(found).to_markdown())
        for line in report_settings.sentences(found):
            print(f"- {line}")
        log(f"stored: {summary.rounds_path}")
    return 130 if summary.interrupted else 0
