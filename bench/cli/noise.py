"""`seqmnist-bench noise`: the A/A check of this machine."""

from __future__ import annotations

import argparse

from bench.cli.args import add_paired_args, host, paired_options, positive


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
    p.set_defaults(func=cmd_noise)


def cmd_noise(args: argparse.Namespace) -> int:
    from bench.store.lock import Lock
    from bench.tasks import compare, noise

    opts = paired_options(args)
    compare.revisions(noise.options(opts, args.rounds))  # git and HEAD there before anything is written
    with Lock(opts.root, "noise"):
        machine, fp = host(args, opts.root)
        table, walls, comparison = noise.run(opts, args.rounds)
        path = noise.save(opts.root, machine, table, walls, opts, fp)
        rounds_dir = compare.store_dir(opts.root, machine, comparison.base, comparison.head)
        compare.save(comparison, rounds_dir, machine, opts, fp)  # every round, for a second look
    print(noise.render(table, opts, args.rounds))
    print("\nwall time: " + ", ".join(f"{k} {s:.0f} s" for k, s in walls.items()))
    print(f"stored: {path}")
    return 0
