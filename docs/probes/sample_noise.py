"""Per-sample noise of one framework's train step inside one process (docs/findings.md, finding 1).

    .venv/bin/python docs/probes/sample_noise.py torch 2      # framework, threads
    .venv/bin/python docs/probes/sample_noise.py numpy 2      # numpy's float32 2048x2048 matmul

One fresh worker (bench/measure/worker.py), nothing else running, 60 samples of >= 0.15 s of the
train step at batch 128: samples/s, the sd of one sample's log, the lag-1 autocorrelation, min..max.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def framework_samples(framework: str, threads: str, n: int = 60) -> tuple[float, np.ndarray]:
    from bench.core.repo import worker_env
    from bench.measure.client import Worker

    w = Worker(ROOT, framework, "cpu", r"^throughput\.TrainStep\.", worker_env(ROOT, int(threads)))
    try:
        job = next(j for j in w.ask({"op": "setup"})["jobs"] if j["params"][2] == "128")
        number = max(1, math.ceil(0.15 / job["once"]))
        logs = np.log([w.ask({"op": "time", "job": job["job"], "number": number})["seconds"] for _ in range(n)])
    finally:
        w.close()
    return 128.0, logs


def numpy_samples(threads: str, n: int = 200) -> tuple[float, np.ndarray]:
    os.environ.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    a @ a
    out = []
    for _ in range(n):
        k, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.15:
            a @ a
            k += 1
        out.append((time.perf_counter() - start) / k)
    return 2 * 2048**3 / 1e9, np.log(out)


def main() -> None:
    what, threads = sys.argv[1], sys.argv[2]
    scale, logs = numpy_samples(threads) if what == "numpy" else framework_samples(what, threads)
    d = logs - logs.mean()
    unit = "GFLOP/s" if what == "numpy" else "samples/s"
    print(
        f"{what} threads {threads}: {scale / math.exp(logs.mean()):,.0f} {unit}, sample sd {logs.std():.3f}, "
        f"lag-1 autocorrelation {np.corrcoef(d[:-1], d[1:])[0, 1]:.2f}, "
        f"min..max {math.exp(logs.min() - logs.mean()) - 1:+.0%}..{math.exp(logs.max() - logs.mean()) - 1:+.0%}"
    )


if __name__ == "__main__":
    main()
