"""Which way of taking a paired round's samples gives the predict ratios of processes alone? Each block
takes, in random order: the paired predict round as the engine takes it (every framework's plain
worker alive, PyTorch's sample between every other's), the same round with every other worker stopped
(SIGSTOP) during each sample, the same round with one untimed call before each sample, the same round
with its workers staged one at a time (as alone processes are), the same round with 0.05 s of each
process's own untimed calls before each of its samples (or 0.15 s: one sample's worth), and each of
`--alone` frameworks alone in a plain process (docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/paired_variants.py --blocks 10 --save docs/validation/closed/variants
    .venv/bin/python docs/probes/paired_variants.py --kinds engine --load docs/validation/closed/variants \
        docs/validation/closed/staging
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import signal
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from alone import FRAMEWORKS, add_estimator, alone_rounds, combined, gaps  # noqa: E402

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402
from bench.store import record, rounds_file  # noqa: E402

PREDICT = r"^throughput\.Predict\."
KINDS = ("engine", "others stopped", "one untimed call", "staged one at a time", "warm-up 0.05 s", "warm-up 0.15 s")
# "warm-up S s": S seconds of the process's own untimed calls before each of its samples
PLAIN = ("engine", "staged one at a time")  # taken as the engine takes them (the plan differs)


class _Variant:
    """A round's worker whose samples are taken the variant's way; `round` lists the round's workers."""

    def __init__(self, worker, kind: str, round_: list):
        self.worker, self.kind, self.round = worker, kind, round_
        round_.append(self)

    def ask(self, request: dict) -> dict:
        if request.get("op") != "time" or self.kind in PLAIN:
            return self.worker.ask(request)
        if self.kind == "one untimed call":
            self.worker.ask({**request, "number": 1})
            return self.worker.ask(request)
        if self.kind.startswith("warm-up"):  # the sample's number lasts the plan's sample_time (0.15 s)
            warm = float(self.kind.split()[1])
            self.worker.ask({**request, "number": math.ceil(request["number"] * warm / 0.15)})
            return self.worker.ask(request)
        others = [w.worker.proc.pid for w in self.round if w is not self]
        for pid in others:
            os.kill(pid, signal.SIGSTOP)
        try:
            return self.worker.ask(request)
        finally:
            for pid in others:
                os.kill(pid, signal.SIGCONT)

    def __getattr__(self, name):
        return getattr(self.worker, name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=10)
    p.add_argument("--alone", nargs="+", default=["torch", "jax", "tensorflow"])
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS, help="the paired rounds' kinds")
    p.add_argument("--save", type=Path, help="write PREFIX-<kind>.csv (rounds files)")
    p.add_argument("--load", type=Path, nargs="+", help="read PREFIX-<kind>.csv instead of measuring (several: pooled)")
    add_estimator(p)
    args = p.parse_args()
    kinds = ["alone", *args.kinds]
    if args.load:
        frames = dict(zip(kinds, combined(args.load, tuple(k.replace(" ", "-") for k in kinds))))
    else:
        frames = measure(args.blocks, args.alone, args.kinds)
        if args.save:
            for k, f in frames.items():
                rounds_file.write(f, Path(f"{args.save}-{k.replace(' ', '-')}.csv"))
    for kind in args.kinds:
        g = gaps(frames["alone"], frames[kind], estimator=args.estimator)
        print(f"\n{kind}: paired / alone per block ({args.estimator}, 95%)")
        for _, r in g.iterrows():
            print(f"  {r.framework:12s} {r.paired_over_alone:.3f} [{r.low:.3f}, {r.high:.3f}]  {r.rounds} blocks")


def measure(blocks: int, alone: list[str], kinds: list[str]) -> dict[str, pd.DataFrame]:
    plan = rounds.Plan(bench=PREDICT, keys="128", alternations=6, sample_time=0.15, reference="torch:cpu")
    env = worker_env(ROOT, None)
    rng = random.Random(int(time.time()))
    rows: dict[str, list] = {k: [] for k in ("alone", *kinds)}
    arms = [rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu") for fw in FRAMEWORKS]
    for block in range(1, blocks + 1):
        for kind in rng.sample(list(rows), len(rows)):
            began = time.monotonic()
            if kind == "alone":
                got = alone_rounds(alone, 1, plan.alternations, plan.sample_time, block, benches=(PREDICT,))
                rows[kind] += got
            else:
                members: list = []
                spent = rounds.Spent()
                start = lambda arm, bench, e, k=kind, m=members: _Variant(rounds.start_worker(arm, bench, e), k, m)  # noqa: E731
                one = dataclasses.replace(plan, stage_at_once=1) if kind == "staged one at a time" else plan
                rows[kind] += rounds.one_round(arms, one, env, block, rng, start=start, spent=spent)
                spent.reap()
            print(f"block {block}/{blocks} {kind}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    return {k: record.frame_of(v) for k, v in rows.items()}


if __name__ == "__main__":
    main()
