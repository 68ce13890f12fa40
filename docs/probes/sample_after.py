"""What comes just before a sample moves it? One plain worker's predict samples (batch 128, ~0.15 s) after
its own sample (back to back), after a PyTorch predict sample (with the engine's settle), after 0.05 s
and after 0.5 s asleep; in random order, 4 of each kind per block; per block each kind's median over
back to back's (docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/sample_after.py jax --blocks 12
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from idle_gap import staged  # noqa: E402  (a worker staged for predict at 128: one copy)

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402

KINDS = ("back to back", "after PyTorch", "0.05 s asleep", "0.5 s asleep")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("framework")
    p.add_argument("--blocks", type=int, default=12)
    args = p.parse_args()
    env = rounds.closed_env(worker_env(ROOT, None))
    target, torch = staged(args.framework, env), staged("torch", env)

    def sample(worker) -> float:
        return worker[0].ask({"op": "time", "job": worker[1], "number": worker[2]})["seconds"]

    blocks = []
    for _ in range(args.blocks):
        got: dict[str, list[float]] = {k: [] for k in KINDS}
        for kind in random.sample(KINDS * 4, len(KINDS) * 4):
            if kind == "back to back":
                sample(target)
            elif kind == "after PyTorch":
                sample(torch)
                deadline = time.monotonic() + 0.05  # the engine's settle (rounds.Plan.settle)
                while torch[0].busy() and time.monotonic() < deadline:
                    time.sleep(0.001)
            else:
                time.sleep(float(kind.split()[0]))
            got[kind].append(sample(target))
        blocks.append({k: statistics.median(v) for k, v in got.items()})
    b2b = statistics.median(b["back to back"] for b in blocks) * 1e3
    print(f"{args.framework} predict @128, {args.blocks} blocks; back to back {b2b:.2f} ms per call")
    for kind in KINDS[1:]:
        r = np.log([b[kind] / b["back to back"] for b in blocks])
        q = [math.exp(x) for x in np.quantile(r, [0.25, 0.5, 0.75])]
        print(f"  {kind:14s} over back to back: median {q[1]:.3f} (quartiles {q[0]:.3f} to {q[2]:.3f})")
    target[0].close()
    torch[0].close()


if __name__ == "__main__":
    main()
