"""`seqmnist-bench noise`: the A/A check of this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.args import UsageError, add_paired_args, host, paired_options, positive
from bench.core.repo import find_root
from bench.measure import estimate, stats
from bench.store import layout, reruns, rounds_file
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
        table, walls, comparison = noise.run(opts, args.rounds)
        carried = noise.carryover(comparison.rounds)
        path = noise.save(opts.root, machine, table, walls, opts, fp, carried)
        rounds_dir = compare.store_dir(opts.root, machine, comparison.base, comparison.head)
        compare.save(comparison, rounds_dir, machine, opts, fp)  # every round, for a second look
    print(noise.render(table, opts, args.rounds))
    for label, carry in carried.items():
        print(f"{label}: {estimate.describe_carryover(carry)}")
    print("\nwall time: " + compare.wall_text(comparison))
    print(f"stored: {path}")
    return 0


def _between(args: argparse.Namespace) -> int:
    """noise --between: the run-to-run term from stored runs (no measuring)."""

    if len(args.between) < 2:
        raise UsageError("--between needs the rounds files of at least two separate runs")
    runs, seen = [], dict[bytes, str]()
    for name in args.between:
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"--between {name}: no such rounds file")
        data = path.read_bytes()  # the same file twice, or a copy of it: the same bytes
        if data in seen:
            raise UsageError(f"--between: {name} is {seen[data]} again; the term needs separate runs")
        seen[data] = name
        try:
            runs.append(rounds_file.load(path))
        except (ValueError, KeyError) as exc:
            raise UsageError(f"--between {name}: not a rounds file ({exc})") from None
    reference = next((a for a in runs[0].arm.unique() if a.startswith(f"{estimate.REFERENCE}:")), None)
    if reference is None:
        raise UsageError(f"--between: {args.between[0]} has no {estimate.REFERENCE} rounds to take ratios to")
    found = estimate.between_runs(runs, reference)
    if not found["pairs"]:
        raise UsageError("--between: the runs share no ratio to compare")
    root = find_root(Path("."))
    machine, fp = host(args, root)
    named = [_shown(Path(n), root) for n in args.between]  # never a local absolute path in what is published
    path = reruns.save(layout.results_dir(root), machine, found, named, fp.get("id"))
    print(
        f"{len(runs)} runs, {found['pairs']} ratio pairs: {found['agreed']:.0%} agreed within their own 95% intervals "
        f"(honest intervals: 95%); run-to-run log sd {found['tau']:.2%}, which widens every ratio interval on "
        f"{machine} by ±{stats.Z95 * found['tau']:.1%} in quadrature"
    )
    print(f"stored: {path.relative_to(root)}")
    return 0


def _shown(path, root) -> str:
    """A rounds file as the results name it: relative to the checkout, else by its last folder and name."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return f"{path.parent.name}/{path.name}"
