"""`seqmnist-bench bisect GOOD BAD`: the first commit that made a benchmark slower, found in paired rounds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli.args import Unique, add_params, fraction, host, positive, positive_float, regex, seed, threads
from bench.core.repo import find_root
from bench.measure.stats import THRESHOLD
from bench.store.lock import Lock
from bench.tasks import bisect
from bench.tasks.compare import DEFAULT_BENCH
from impls import DEVICES, FRAMEWORKS


def add_parser(sub) -> None:

    p = sub.add_parser(
        "bisect",
        help="find the first commit between GOOD and BAD that made a benchmark slower (paired rounds per step)",
        description="First measures BAD against GOOD in paired rounds (as compare does) and follows the benchmark "
        "that regressed most beyond --threshold (none: exit 2, saying what was measured). Then bisects the "
        "first-parent commits GOOD..BAD, each step measuring one commit against GOOD: bad when the 95% interval "
        "of its change lies above the midpoint between no change and BAD's (so a smaller slowdown elsewhere is "
        "not blamed), good when below; a commit whose benchmark fails or does not build is skipped, one the "
        "budget cannot decide is left undecided. Prints the first bad commit, its subject and its change with "
        "the interval, and every step; writes results/bisect/<machine>/<good>-<bad>.md (not tracked). Exit "
        "status: 0 found, 1 not pinned to one commit within --max-steps (the narrowest range proved is "
        "printed), 2 bad input or BAD not slower than GOOD, 130 interrupted (worktrees removed).",
    )
    p.add_argument("good", help="a revision without the slowdown")
    p.add_argument("bad", help="a later revision with it (GOOD must be its ancestor)")
    p.add_argument("--frameworks", nargs="+", action=Unique, choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--devices", nargs="+", action=Unique, choices=DEVICES, default=["cpu"])
    p.add_argument(
        "--bench", metavar="REGEX", type=regex, default=DEFAULT_BENCH,
        help=f"asv time benchmarks to look at, by full name (default {DEFAULT_BENCH!r})",
    )  # fmt: skip
    p.add_argument(
        "--threshold", type=fraction, default=THRESHOLD,
        help=f"BAD must be slower than GOOD by more than this, its whole interval beyond it (default {THRESHOLD})",
    )  # fmt: skip
    p.add_argument(
        "--budget", type=positive_float, default=300.0,
        help="seconds of paired rounds per step before it is left undecided (default 300)",
    )  # fmt: skip
    add_params(p)
    p.add_argument("--max-steps", type=positive, default=12, help="steps after the first comparison (default 12)")
    p.add_argument("--machine", help="machine name the log is kept under (default: host name)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the random side order (default 0)")
    p.add_argument("--threads", type=threads, help="CPU threads per framework (default: all this process may use)")
    p.set_defaults(func=cmd_bisect)


def cmd_bisect(args: argparse.Namespace) -> int:

    root = find_root(Path.cwd())
    opts = bisect.BisectOptions(
        good=args.good, bad=args.bad, frameworks=tuple(args.frameworks), devices=tuple(args.devices),
        bench=args.bench, threshold=args.threshold, budget=args.budget, max_steps=args.max_steps,
        threads=args.threads, seed=args.seed, root=root, keys=args.keys,
    )  # fmt: skip
    bisect.check(opts)  # revisions and their order, before anything runs or is written
    with Lock(root, "bisect"):
        machine, _ = host(args, root, claim=False)  # its log is no result: no fingerprint is stored
        result = bisect.bisect(opts)
        path = bisect.save(result, root, machine)
    print(bisect.render(result))
    print(f"log: {path}", file=sys.stderr)
    return 0 if result.found else 1
