"""Are a fresh process's first samples slower than its later ones? Fresh plain workers, predict at
batch 128: 18 back-to-back samples (~0.15 s) right after the setup reply, as an alone process takes
its 6; each sample over the median of samples 13-18, the median over processes per position
(docs/validation.md, "Paired against alone"). With --busy S, two spinning processes keep both CPUs
busy for S seconds between the setup reply and the first sample (the machine's state, not the process's).

    .venv/bin/python docs/probes/first_samples.py --processes 8 jax tensorflow torch
    .venv/bin/python docs/probes/first_samples.py --processes 8 --busy 3 torch
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from idle_gap import staged  # noqa: E402

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import rounds  # noqa: E402

SAMPLES = 18
EDGES = (0, 6, 18, 42, 80, 120, 200)  # the positions' bins the summary line reads


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("frameworks", nargs="+")
    p.add_argument("--processes", type=int, default=8)
    p.add_argument("--samples", type=int, default=SAMPLES, help="samples per process (at least 18)")
    p.add_argument("--busy", type=float, default=0.0, help="seconds both CPUs spin before the first sample")
    args = p.parse_args()
    env = rounds.closed_env(worker_env(ROOT, None))
    for fw in args.frameworks:
        rel = []
        for _ in range(args.processes):
            worker, job, number = staged(fw, env)
            if args.busy:
                spin = (
                    f"import time\nend = time.perf_counter() + {args.busy}\nwhile time.perf_counter() < end:\n    pass"
                )
                for spinner in [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]:
                    spinner.wait()
            s = [worker.ask({"op": "time", "job": job, "number": number})["seconds"] for _ in range(args.samples)]
            worker.close()
            ref = statistics.median(s[12:SAMPLES])
            rel.append([x / ref for x in s])
        print(
            f"{fw:12s} " + " ".join(f"{statistics.median(r[i] for r in rel):.3f}" for i in range(SAMPLES)), flush=True
        )
        edges = [e for e in EDGES if e < args.samples] + [args.samples]
        bins = list(zip(edges, edges[1:]))
        said = []
        for a, b in bins:
            part = [x for r in rel for x in r[a:b]]
            said.append(
                f"samples {a + 1}-{b}: median {statistics.median(part):.3f}, over 1.2x {sum(x > 1.2 for x in part) / len(part):.0%}"
            )
        print(" " * 13 + "; ".join(said), flush=True)


if __name__ == "__main__":
    main()
