"""`report`'s wall time as the stored history grows (docs/validation.md, "Change points").

    .venv/bin/python docs/probes/report_scale.py 100 400 1000

One machine, N commits an hour apart, each with 10 series (train step and predict at batch 128 for
five frameworks, 2% noise, a 5% step in one series every 200 commits), written as asv results in a
temporary folder; then `seqmnist-bench report --results DIR` (the change points, the tables, the
plots, the page) timed as a user runs it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from asv_files import write_results  # noqa: E402

FRAMEWORKS = ["'torch'", "'tensorflow'", "'jax'", "'keras-jax'", "'keras-torch'"]
GRID = [FRAMEWORKS, ["'cpu'"], ["128"]]


def history(results: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    base = {"throughput.TrainStep.time_train_step": 0.015, "throughput.Predict.time_predict": 0.006}
    for i in range(n):
        commit = f"{i + 1:08x}" + "0" * 32  # asv names a result file by the first 8
        benchmarks = {}
        for name, level in base.items():
            values = [level * (1 + 0.3 * k) * np.exp(rng.normal(0, 0.02)) for k in range(len(FRAMEWORKS))]
            if name.endswith("train_step"):
                values[0] *= 1.05 ** (i // 200)
            benchmarks[name] = (GRID, values, [(v * 0.96, v * 1.04) for v in values])
        write_results(results, "box", commit, 1_700_000_000_000 + i * 3_600_000, benchmarks)
    (results / "benchmarks.json").write_text("{}")


def main() -> None:
    for n in [int(a) for a in sys.argv[1:]] or [100, 400, 1000]:
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp) / "results" / "asv"
            history(results, n)
            began = time.monotonic()
            proc = subprocess.run(
                [str(ROOT / ".venv" / "bin" / "seqmnist-bench"), "report", "--results", str(results), "--readme", ""],
                cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            wall = time.monotonic() - began
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc.returncode else []
            print(f"{n} commits x 10 series: report {wall:.1f} s, exit {proc.returncode} {' '.join(tail)}", flush=True)


if __name__ == "__main__":
    main()
