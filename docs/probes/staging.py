"""How long a round of the five frameworks takes to stage, with every worker staging at once against a
few at a time (docs/validation.md, "Staging").

    .venv/bin/python docs/probes/staging.py --reps 4 --at-once 5 2
    .venv/bin/python docs/probes/staging.py --alone      # each framework's worker staged alone

Each rep runs the engine (rounds.run_rounds, the quick run's selection: batch 128, no variants) for two
rounds per setting, the settings in alternating order from rep to rep, with one pass of samples so a
round is mostly staging. Prints each setting's staging seconds a round and each worker's own import
and setup seconds (summed over its two rounds, halved). With --alone, each framework's worker is
started and staged with nothing else alive, one after another.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.measure.rounds import Arm, Plan, run_rounds, start_worker  # noqa: E402
from bench.tasks.selection import QUICK_KEYS, paired_pattern  # noqa: E402

FRAMEWORKS = ["torch", "jax", "tensorflow", "keras-torch", "keras-jax"]
BENCH = paired_pattern(SimpleNamespace(bench=None, quick=True))  # the quick run's: no variants


def alone(arms: list[Arm], threads: str) -> None:
    for arm in arms:
        began = time.monotonic()
        worker = start_worker(arm, BENCH, {"SEQMNIST_THREADS": threads})
        staged = worker.ask({"op": "setup", "keys": QUICK_KEYS}).get("staged", {})
        took = time.monotonic() - began
        worker.close()
        said = ", ".join(f"{k} {v:.1f} s" for k, v in staged.items())
        print(f"{arm.framework} alone: {took:.1f} s from start to staged ({said})", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=4)
    p.add_argument("--at-once", type=int, nargs="+", default=[5, 2], help="workers staging together")
    p.add_argument("--threads", default="2", help="SEQMNIST_THREADS of every worker")
    p.add_argument("--alone", action="store_true", help="stage each framework's worker alone instead")
    args = p.parse_args()
    arms = [Arm(f"{f}:cpu", ROOT, f, "cpu") for f in FRAMEWORKS]
    if args.alone:
        return alone(arms, args.threads)
    for rep in range(args.reps):
        for k in args.at_once if rep % 2 == 0 else args.at_once[::-1]:
            plan = Plan(
                bench=BENCH,
                keys=QUICK_KEYS,
                alternations=1,
                min_rounds=2,
                max_rounds=2,
                stage_at_once=k,
                seed=rep,
                reference="torch:cpu",
            )
            r = run_rounds(arms, plan, {"SEQMNIST_THREADS": args.threads})
            per = ", ".join(f"{a.split(':')[0]} {sum(v.values()) / 2:.1f}" for a, v in sorted(r.staged.items()))
            staging = r.phases.get("staging", 0.0) / 2
            print(f"rep {rep} at once {k}: staging {staging:.1f} s a round (workers' own: {per})", flush=True)


if __name__ == "__main__":
    main()
