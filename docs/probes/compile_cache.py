"""JAX's persistent compilation cache for the workers' staging: does a worker that loads its compiled
programs from the cache measure what one that compiles them measures? (docs/validation.md, "JAX's
compilation cache"). A compile cache may stay in the closed division only where it changes no timed
sample: it is meant to shorten staging, never a sample.

    .venv/bin/python docs/probes/compile_cache.py --rounds 12 --save docs/validation/compile-cache/run-1
    .venv/bin/python docs/probes/compile_cache.py --load docs/validation/compile-cache/run-1

Each round of the engine's own rounds (rounds.run_rounds, plain processes, predict then the train step
at batch 128, samples alternated ABCD DCBA) holds two workers per framework, both fresh processes: one
as the engine starts it (it compiles), one with the cache (`rounds.Arm.env`: a folder of this probe's,
empty at the start, so round 1's cached worker fills it and later ones load from it), in random order.
The same table as docs/probes/forked.py: cached over plain by round, each kind's spread and slow-mode
share, and each kind's staging seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from forked import load_saved, per_process, save, summary  # noqa: E402

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402

BENCH = r"^throughput\.(TrainStep|Predict)\."
KINDS = ("plain", "cached")


def cache_env(folder: str) -> tuple[tuple[str, str], ...]:
    """JAX's persistent cache in `folder`, every program kept (by default only those over 1 s to compile)."""
    return (("JAX_COMPILATION_CACHE_DIR", folder), ("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0"))


def measure(frameworks: list[str], n: int, folder: str) -> tuple[pd.DataFrame, dict]:
    arms = []
    for fw in frameworks:
        arms += [
            rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu"),
            rounds.Arm(f"{fw}:cpu@cached", ROOT, fw, "cpu", env=cache_env(folder)),
        ]
    plan = rounds.Plan(bench=BENCH, min_rounds=n, max_rounds=n, keys="128", alternations=4, seed=int(time.time()))
    done = rounds.run_rounds(arms, plan, worker_env(ROOT, None), log=print)
    print(f"{done.stopped}; staging per arm, seconds summed over rounds: {done.staged}")
    return done.frame, done.staged


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frameworks", nargs="+", default=["jax", "keras-jax"])
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--save", type=Path, help="write the rounds to SAVE.csv")
    p.add_argument("--load", type=Path, nargs="+", help="only read rounds saved before (several: combined)")
    args = p.parse_args()
    if args.load:
        frame = load_saved(args.load)
    else:
        with tempfile.TemporaryDirectory(prefix="seqmnist-jax-cache-") as folder:
            frame, _ = measure(args.frameworks, args.rounds, folder)
        if args.save:
            save(frame, args.save)
    print(summary(per_process(frame, KINDS), KINDS).to_markdown(index=False))


if __name__ == "__main__":
    main()
