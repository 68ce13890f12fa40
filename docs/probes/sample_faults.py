"""What does the kernel do for a worker during its predict samples, paired and alone? Each block takes,
in random order, the engine's paired predict round (all five plain workers, PyTorch's sample between
every other's) and each of `--alone` frameworks alone in a plain process (alone.alone_rounds); around
every sample the probe reads the worker's /proc/PID/stat (minor and major page faults, user and system
CPU ticks, all threads; and each thread's ticks and the CPU it last ran on). Per framework and kind: ms per call, faults per call, system share of CPU
(docs/validation.md, "What the predict gap is not"), and each paired kind's gap over each alone kind.
`--kinds` adds "alone, quiet" (each alone process started `--quiet` seconds after the one before it
exited, and the paired rounds as long after the block's last exit), "paired, two" (the paired round
with only PyTorch's and JAX's workers alive) and "alone, paused" (each alone process idle for PAUSE
seconds between its setup and its first sample, as a paired round's workers wait for the others').

    .venv/bin/python docs/probes/sample_faults.py --blocks 12 --kinds alone paired "alone, quiet" \
        --alone torch jax tensorflow keras-jax keras-torch --save docs/validation/closed/quiet
    .venv/bin/python docs/probes/sample_faults.py --load docs/validation/closed/{variants,staging,warm,quiet,two,warm15,paused}
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from alone import FRAMEWORKS, add_estimator, alone_rounds, gaps  # noqa: E402
from alone import _mean_logs as mean_logs  # noqa: E402  (one process's mean log per round: one copy)

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import estimate, rounds  # noqa: E402
from bench.store import record, rounds_file  # noqa: E402

PREDICT = r"^throughput\.Predict\."
KINDS = ("alone", "paired", "alone, quiet", "paired, two", "alone, paused")
PAUSE = 8.0  # seconds an "alone, paused" process idles after its setup: a paired round's staging of the others
TWO = ("torch", "jax")  # the arms of "paired, two": the same round with only these workers alive


def counters(pid: int) -> tuple[int, int, int, int]:
    """(minor faults, major faults, user ticks, system ticks) of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[9]), int(fields[11]), int(fields[12])


def threads(pid: int) -> dict[int, tuple[int, int]]:
    """Each thread of a process: (user and system ticks, the CPU it last ran on)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        out[int(task.name)] = (int(fields[11]) + int(fields[12]), int(fields[36]))
    return out


class _Counted:
    """A worker whose timed samples are logged with what the kernel counted for them."""

    def __init__(self, worker, framework: str, kind: str, block: int, log: list):
        self.worker, self.framework, self.kind, self.block, self.log = worker, framework, kind, block, log

    def ask(self, request: dict) -> dict:
        if request.get("op") != "time":
            return self.worker.ask(request)
        pid = self.worker.proc.pid
        before, tasks = counters(pid), threads(pid)
        reply = self.worker.ask(request)
        d = [b - a for a, b in zip(before, counters(pid))]
        now = threads(pid)
        busy = sorted(((now[t][0] - tasks[t][0], now[t][1]) for t in now if t in tasks), reverse=True)
        n = request["number"]
        self.log.append(
            dict(
                block=self.block,
                kind=self.kind,
                framework=self.framework,
                pid=pid,
                ms=reply["seconds"] * 1e3,
                number=n,
                minflt=d[0] / n,
                majflt=d[1] / n,
                utime=d[2],
                stime=d[3],
                threads=" ".join(f"{ticks}@{cpu}" for ticks, cpu in busy if ticks),  # ticks@CPU, busiest first
            )
        )
        return reply

    def __getattr__(self, name):
        return getattr(self.worker, name)


def measure(
    blocks: int, alone: list[str], kinds: list[str], quiet: float = 0.0
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every sample's line, and each kind's rounds (as the engine records them)."""
    plan = rounds.Plan(bench=PREDICT, keys="128", alternations=6, sample_time=0.15, reference="torch:cpu")
    env = worker_env(ROOT, None)
    rng = random.Random(int(time.time()))
    log: list[dict] = []
    rows: dict[str, list] = {k: [] for k in kinds}
    quiet = quiet if "alone, quiet" in kinds else 0.0
    arms = [rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu") for fw in FRAMEWORKS]
    for block in range(1, blocks + 1):
        for kind in rng.sample(kinds, len(kinds)):

            def start(arm, bench, e, k=kind, b=block):
                if k == "alone, quiet":
                    time.sleep(quiet)  # after the process before it exited
                return _Counted(rounds.start_worker(arm, bench, e), arm.framework, k, b, log)

            began = time.monotonic()
            if kind.startswith("alone"):
                pause = PAUSE if kind == "alone, paused" else 0.0
                rows[kind] += alone_rounds(
                    alone, 1, plan.alternations, plan.sample_time, block, pause, benches=(PREDICT,), start=start
                )
            else:
                time.sleep(quiet)  # after the block's last process exited
                spent = rounds.Spent()
                members = [a for a in arms if a.framework in TWO] if kind == "paired, two" else arms
                rows[kind] += rounds.one_round(members, plan, env, block, rng, start=start, spent=spent)
                spent.reap()
            print(f"block {block}/{blocks} {kind}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    return pd.DataFrame(log), {k: record.frame_of(v) for k, v in rows.items()}


def summary(log: pd.DataFrame) -> pd.DataFrame:
    """Per framework and kind: medians over samples, and the share of samples with a fault per call."""
    g = log.assign(sys_share=log.stime / (log.utime + log.stime).clip(lower=1)).groupby(["framework", "kind"])
    return pd.DataFrame(
        {
            "samples": g.size(),
            "ms": g.ms.median(),
            "minflt/call": g.minflt.median(),
            "minflt/call p90": g.minflt.quantile(0.9),
            "with faults": g.minflt.apply(lambda s: (s >= 1).mean()),
            "sys share": g.sys_share.median(),
        }
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--alone", nargs="+", default=["torch", "jax", "tensorflow"])
    p.add_argument("--quiet", type=float, default=5.0, help="seconds after an exit (module doc)")
    p.add_argument("--kinds", nargs="+", default=list(KINDS[:2]), choices=KINDS)
    p.add_argument(
        "--save", type=Path, help="write PREFIX-samples.csv (every sample's line), PREFIX-<kind>.csv (rounds)"
    )
    p.add_argument(
        "--load", type=Path, nargs="+", help="read earlier --save runs instead of measuring (several: pooled)"
    )
    add_estimator(p)
    args = p.parse_args()
    if args.load:
        log, frames = load(args.load)
    else:
        log, frames = measure(args.blocks, args.alone, args.kinds, args.quiet)
    if args.save:
        log.to_csv(f"{args.save}-samples.csv", index=False)
        for kind, frame in frames.items():
            rounds_file.write(frame, Path(f"{args.save}-{_name(kind)}.csv"))
    if not log.empty:
        print(summary(log).to_markdown(floatfmt=".3f"))
    if {"alone", "paired"} <= set(frames):
        print(f"\neach framework's own time, paired over alone ({args.estimator} over blocks of the mean-log ratio)")
        print(slowed(frames["alone"], frames["paired"], args.estimator).round(3).to_string())
        print("\nPyTorch's paired predict samples by what ran just before them")
        print(after(frames["paired"]).to_markdown(floatfmt=".3f"))
    for paired in (k for k in frames if k.startswith("paired")):
        for kind in (k for k in frames if k.startswith("alone")):
            if not (
                table := gaps(frames[kind], frames[paired], estimator=args.estimator)
            ).empty:  # empty: no block took both
                print(f"\n{paired} / {kind} per block ({args.estimator}, 95%)")
                print(table.to_markdown(index=False, floatfmt=".3f"))


def slowed(alone: pd.DataFrame, paired: pd.DataFrame, estimator: str = "mean") -> pd.Series:
    """Per framework and benchmark, the mean (or, with "hodges-lehmann", the median) over blocks of its
    paired samples' time over its alone samples' (mean logs): how much slower it ran in the paired round."""
    a, p = (_mean_logs(f) for f in (alone, paired))
    by = (p - a).dropna().groupby(level=["framework", "benchmark"])
    return np.exp(by.mean() if estimator == "mean" else by.median())


def after(paired: pd.DataFrame) -> pd.DataFrame:
    """PyTorch's paired predict samples by the framework sampled just before each: count, and the median
    sample over its round's median."""
    ok = estimate.ok_rows(paired)
    rows = [
        (a.split(":")[0], math.log(v) - float(np.median(np.log(r.samples))))
        for r in ok[(ok.framework == "torch") & ok.benchmark.str.contains("Predict")].itertuples()
        for v, a in zip(r.samples, r.after)
    ]
    d = pd.DataFrame(rows, columns=["after", "log"]).groupby("after").log
    return pd.DataFrame({"samples": d.size(), "over its round's median": np.exp(d.median())})


def _mean_logs(frame: pd.DataFrame) -> pd.Series:
    """Each process's mean log sample, by framework, benchmark and round (alone._mean_logs per group)."""
    ok = estimate.ok_rows(frame)
    groups = ok.groupby([ok.framework, ok.benchmark.str.split(".").str[1]])
    return pd.concat({key: mean_logs(rows) for key, rows in groups}, names=["framework", "benchmark"])


def load(saves: list[Path]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Earlier runs' sample lines and rounds per kind, each run's blocks numbered after the last. A
    paired_variants.py run's rounds count too: its engine kind (PREFIX-engine.csv) is "paired" here."""
    logs, parts, offset = [], {}, 0
    for save in saves:
        files = {k: Path(f"{save}-{_name(k)}.csv") for k in KINDS}
        if not files["paired"].exists():
            files["paired"] = Path(f"{save}-engine.csv")
        frames = {k: rounds_file.load(f) for k, f in files.items() if f.exists()}
        for kind, frame in frames.items():
            parts.setdefault(kind, []).append(frame.assign(round=frame["round"] + offset))
        last = [int(frame["round"].max()) for frame in frames.values()]
        if (samples := Path(f"{save}-samples.csv")).exists():
            log = pd.read_csv(samples)
            logs.append(log.assign(block=log.block + offset))
            last.append(int(log.block.max()))
        offset += max(last)
    pooled = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    return (pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()), pooled


def _name(kind: str) -> str:
    return kind.replace(", ", "-")


if __name__ == "__main__":
    main()
