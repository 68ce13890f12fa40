"""`seqmnist-bench open-division`: each framework's best equivalent configuration, chosen by interval."""

from __future__ import annotations

import argparse
import sys

from bench.cli.args import non_negative, positive, positive_float
from bench.core import files
from bench.report import commit_rows, load_results
from bench.report.open_division import CLOSED, choose, open_table
from bench.store import layout
from bench.store.layout import meta_dir
from bench.store.lock import Lock
from bench.tasks import profile
from bench.tasks import run as run_task
from impls import DEVICES, FRAMEWORKS

BENCH = r"^variants\.ImplementationVariants\."


def add_parser(sub) -> None:
    p = sub.add_parser(
        "open-division",
        help="search each framework's variants for its fastest equivalent configuration (paired rounds)",
        description="Measure every candidate of each framework's search space (its variants: library LSTM, "
        "per-step cell, compiled or jit-compiled, scan unrolling; each proven equivalent by the float64 check of "
        "tests/impls) against the framework's closed row (the 'fused' variant), train step at batch 128, in "
        "paired rounds: all candidates in one fresh process per framework per round, samples alternating. The "
        "open row is the fastest candidate whose 95% interval of the ratio to the closed row lies above 1; "
        "otherwise the closed row stands. Results are stored as `run` stores them (this is `run --bench "
        f"'{BENCH}'`) and shown by `report` beside the closed rows. Exit status as `run`.",
    )
    p.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS), metavar="NAME")
    p.add_argument("--devices", nargs="+", default=["cpu"], choices=DEVICES)
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

    summary = run_task.run_suite(
        run_task.RunOptions(
            frameworks=tuple(args.frameworks),
            devices=tuple(args.devices),
            bench=BENCH,
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
        _profile_open_rows(summary, open_rows, args.threads)
    if summary.chunks_failed:
        print(f"some benchmarks failed in: {', '.join(summary.chunks_failed)}", file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.chunks_failed else 0


def _profile_open_rows(summary, open_rows: list[tuple[str, str, str]], threads: int | None) -> None:
    """Each open row that is not its closed row, broken down as `profile --variant` does, stored with
    this commit's breakdowns so the page shows it beside the closed row's."""

    fingerprint = files.read_json(meta_dir(summary.root) / summary.machine / "fingerprint.json")
    with Lock(summary.root, "run"):
        for framework, variant, device in open_rows:
            opts = profile.ProfileOptions(
                frameworks=[framework],
                variant=variant,
                device=device,
                batch_sizes=[32, 128, 1024],
                root=summary.root,
                threads=threads,
            )
            found, skipped = profile.run(opts, summary.machine, log=lambda m: print(m, file=sys.stderr, flush=True))
            path = profile.save(summary.root, summary.machine, found, skipped, fingerprint)
            if found:
                print(f"\n{profile.render(found)}\nstored: {path.relative_to(summary.root)}")
