"""`seqmnist-bench compare BASE HEAD`: two commits in paired rounds, verdicts, exit 1 on a regression."""

from __future__ import annotations

import argparse
import sys

from bench.cli.args import (
    add_paired_args,
    host,
    paired_options,
    positive,
    positive_float,
    regex,
)
from bench.measure.stats import MIN_ROUNDS
from bench.store.lock import Lock
from bench.tasks import compare, noise


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="measure two commits here in paired rounds, then give verdicts (exit 1 on a regression)",
        description="Check out BASE and HEAD in git worktrees and measure them in paired rounds: each round "
        "starts new base and head processes (random order; each forked from a fork server per revision where "
        "the framework measures the same forked, see --fresh-processes) that alternate sample by sample, so drift of "
        "the machine hits both. Verdicts come from the per-round head/base ratios: a regression is a "
        "change whose whole 95% interval lies beyond --threshold. Rounds stop once every benchmark is "
        "decided, or at --budget. Writes results/compare/<machine>/<base>-<head>/ (not tracked by git). "
        "Exit status: 1 on a regression or a benchmark that fails or no longer runs at HEAD, 0 otherwise, 2 for bad "
        "arguments (unknown revision, no benchmark).",
    )
    p.add_argument("base", help="base revision (branch, tag or hash)")
    p.add_argument("head", help="head revision")
    add_paired_args(p)
    p.add_argument(
        "--budget",
        type=positive_float,
        default=300.0,
        help="seconds of rounds per framework and device before deciding with what there is (default 300)",
    )
    p.add_argument(
        "--min-rounds",
        type=positive,
        default=None,
        help="rounds before stopping early (default: what this host's noise check says a 10%% change "
        f"needs, at least {MIN_ROUNDS})",
    )
    p.add_argument("--max-rounds", type=positive, default=60, help="upper bound on rounds (default 60)")
    p.add_argument("--rounds", type=positive, help="exactly this many rounds (no early stop)")
    p.add_argument(
        "--allow-gone",
        metavar="REGEX",
        type=regex,
        help="benchmarks that ran at BASE and do not run at HEAD fail the gate (an import error, a new skip) "
        "unless this regex on 'benchmark(params)' names them as removed on purpose",
    )
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:

    opts = paired_options(args, budget=args.budget, max_rounds=args.max_rounds, allow_gone=args.allow_gone)
    compare.revisions(opts)  # bad revisions are refused before anything runs or is written
    with Lock(opts.root, "compare"):
        machine, fp = host(args, opts.root)  # the fingerprint (and its write) under the lock
        why = noise.bound_rounds(opts, args.rounds, args.min_rounds, machine, fp["id"])
        if why:
            print(why, file=sys.stderr)
        result = compare.measure(opts)
        out = compare.store_dir(opts.root, machine, result.base, result.head)
        compare.save(result, out, machine, opts, fp)
    v = result.verdicts
    counts = v.verdict.value_counts().to_dict()
    print(
        f"\n{result.head[:8]} vs {result.base[:8]} on {machine}: "
        + (", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing comparable")
    )
    if not v.empty:
        shown = v.assign(change=[compare.outcome(c, r) for c, r in zip(v.change, v.reason)])
        print(shown[["verdict", "benchmark", "params", "change"]].to_string(index=False))
    print(f"full report: {out / 'regressions.md'}")
    return compare.exit_status(v)
