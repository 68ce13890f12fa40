"""`seqmnist-bench noise`: the A/A check of this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.args import add_paired_args, host, paired_options, positive
from bench.core.repo import find_root
from bench.measure import estimate, stats
from bench.store.lock import Lock
from bench.tasks import compare, noise


def add_parser(sub) -> None:
    p = sub.add_parser(
        "noise",
        help="A/A check of this machine: noise per benchmark, smallest detectable change, rounds needed",
        description="Compare the current commit with itself in paired rounds (as `compare` measures) and "
        "report each benchmark's paired noise, the smallest change compare can detect here, and the rounds a "
        "10% or 5% change needs. Stored in results/meta/<machine>/noise.json, which compare reads to "
        "choose its rounds on the same host.",
    )
    add_paired_args(p)
    p.add_argument("--rounds", type=positive, default=10, help="paired rounds (default 10)")
    p.add_argument(
        "--between",
        nargs="+",
        metavar="ROUNDS_CSV",
        help="measure nothing: from the rounds files of two or more separate full runs of the same code on this "
        "machine (results/rounds/<machine>/<commit>.csv of each), estimate how far runs move the ratios beyond "
        "their own intervals and store it in results/meta/<machine>/reruns.json; `report` widens this "
        "machine's ratio intervals by it",
    )
    p.set_defaults(func=cmd_noise)


def cmd_noise(args: argparse.Namespace) -> int:

    if args.between:
        return _between(args)
    opts = paired_options(args)
    compare.revisions(noise.options(opts, args.rounds))  # git and HEAD there before anything is written
    with Lock(opts.root, "noise"):
        machine, fp = host(args, opts.root)
        done = noise.check(opts, args.rounds, machine, fp)
    print(noise.render(done.table, opts, args.rounds))
    for label, carry in done.carried.items():
        print(f"{label}: {estimate.describe_carryover(carry)}")
    print("\nwall time: " + compare.wall_text(done.comparison))
    print(f"stored: {done.path}")
    return 0


def _between(args: argparse.Namespace) -> int:
    """noise --between: the run-to-run term from stored runs (no measuring)."""
    root = find_root(Path("."))
    runs = noise.load_runs(args.between)
    found = noise.term(runs, args.between)  # what cannot be used is refused before the host is probed
    machine, fp = host(args, root)
    path = noise.save_term(found, args.between, root, machine, fp.get("id"))
    print(
        f"{len(runs)} runs, {found['pairs']} ratio pairs: {found['agreed']:.0%} agreed within their own 95% intervals "
        f"(honest intervals: 95%); run-to-run log sd {found['tau']:.2%}, which widens every ratio interval on "
        f"{machine} by ±{stats.rerun_term(found['tau']):.1%} in quadrature"
    )
    print(f"stored: {path.relative_to(root)}")
    return 0
