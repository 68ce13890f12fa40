"""Each framework measured alone: the check that the paired rounds' alternation does not bias the
published ratios (docs/validation.md, "Paired against alone").

    .venv/bin/python docs/probes/alone.py --rounds 6                  # every framework, train/predict @128
    .venv/bin/python docs/probes/alone.py --rounds 6 --paired results/rounds/MACHINE/COMMIT.csv
    .venv/bin/python docs/probes/alone.py --rounds 8 --interleave --save docs/validation/carryover/both
    .venv/bin/python docs/probes/alone.py --rounds 12 --interleave --as-run --save docs/validation/closed/as-run
    .venv/bin/python docs/probes/alone.py --rounds 10 --interleave --both --save docs/validation/closed/three
    .venv/bin/python docs/probes/alone.py --combine docs/validation/allocator/five docs/validation/allocator/five-2
    .venv/bin/python docs/probes/alone.py --combine docs/validation/closed/three:as-run docs/validation/closed/mean-check
    .venv/bin/python docs/probes/alone.py --rounds 16 --interleave --as-run --one-at-a-time --save docs/validation/closed/v3

With --interleave every round also takes one paired round (the engine's one_round over all five,
its quick run's plan), alone and paired in random order, so the machine's drift between rounds
falls on both alike: the gap, paired over alone per round, then has an interval of its own: the mean
of the per-round log differences with its t interval (ESTIMATORS; `--estimator hodges-lehmann` prints
the tables of docs/validation.md's sections before "The check's estimator").

Each round starts one fresh worker per framework and benchmark, in random order, one at a time: a
plain process (rounds.closed_env: the C library's and the framework's defaults) that stages and times
one benchmark only, the train step or predict, as a user's process for that question would, with
nothing else alive (the engine's own rounds.one_round with a single arm), then it quits before the
next starts. A round's ratio of a framework to PyTorch is the
ratio of the two processes' mean logs; the interval is the Hodges-Lehmann one over rounds, as the
engine's. With --paired, the table sets these beside the ratios estimated from a run's rounds file.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.core.repo import worker_env  # noqa: E402
from bench.measure import estimate, rounds, stats  # noqa: E402
from bench.measure.forks import ForkServers  # noqa: E402
from bench.store import record, rounds_file  # noqa: E402

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras-jax", "keras-torch")
BENCH = r"^throughput\.(TrainStep|Predict)\."
ALONE = (r"^throughput\.TrainStep\.", r"^throughput\.Predict\.")  # one process per benchmark when alone
# How paired over alone is estimated from one log difference per round. The check compares expectations:
# an alone process times its samples in about 1 s, a paired round in about 8 s, and on a host with slow
# spells of seconds the short windows skew (mostly fast, now and then wholly in a spell) where the long
# ones average, so a median-type estimate of the difference leaves the alone side's slow spells out. The
# mean of the logs keeps them in the proportion they come (docs/validation.md, "The check's estimator").
ESTIMATORS = {"mean": stats.mixture_logs, "hodges-lehmann": stats.paired_logs}


class _Paused:
    """A worker whose setup reply is handed on `pause` seconds late: the process sits idle after its
    setup before its first sample, as a paired round's processes do while the others stage."""

    def __init__(self, worker, pause: float):
        self.worker, self.pause = worker, pause

    def receive(self, timeout: float = 900) -> dict:
        reply = self.worker.receive(timeout)
        if "jobs" in reply:
            time.sleep(self.pause)
        return reply

    def __getattr__(self, name):
        return getattr(self.worker, name)


def alone_rounds(
    frameworks: list[str],
    n: int,
    alternations: int,
    sample_time: float,
    first: int = 1,
    pause: float = 0.0,
    benches: tuple[str, ...] = ALONE,
    as_long: bool = False,
    start=None,
) -> list:
    """n alone rounds (module doc). With `as_long`, PyTorch's process takes as many samples as the
    paired round's reference does (one before each framework's), so both are read at the same age.
    `start` starts a worker (default rounds.start_worker; a probe may wrap it)."""

    def plan(bench: str, fw: str) -> rounds.Plan:
        count = alternations * len(frameworks) if as_long and fw == "torch" else alternations
        return rounds.Plan(bench=bench, keys="128", alternations=count, sample_time=sample_time, settle=0.0)

    start = start or rounds.start_worker
    if pause:
        start = lambda arm, bench, env, s=start: _Paused(s(arm, bench, env), pause)  # noqa: E731
    env = worker_env(ROOT, None)
    rng = random.Random(int(time.time()))
    rows = []
    for round_no in range(first, first + n):
        order = [(fw, bench) for fw in frameworks for bench in benches]
        rng.shuffle(order)
        for fw, bench in order:
            arm = rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu")
            spent = rounds.Spent()
            rows += rounds.one_round([arm], plan(bench, fw), env, round_no, rng, start=start, spent=spent)
            spent.reap()  # it has exited before the next one starts
        print(f"round {round_no}/{n} done", file=sys.stderr, flush=True)
    return rows


def interleaved(
    frameworks: list[str],
    n: int,
    pause: float = 0.0,
    as_run: bool = False,
    both: bool = False,
    as_long: bool = False,
    one_at_a_time: bool = False,
) -> tuple[pd.DataFrame, ...]:
    """n rounds, each one alone round (as alone_rounds) and one paired round (the engine's quick plan),
    in random order: (alone rows, paired rows). With `as_run` the paired workers start as `run` starts
    them (bench/tasks/run._run_engine): PyTorch's forked from a fork server kept over the rounds, JAX's
    staging with its compilation cache; alone processes stay fresh plain ones. With `both`, every round
    takes a paired round of each kind, all three in random order: (alone, paired fresh, paired as run).
    With `one_at_a_time` the engine's round is `run`'s since version 3 (rounds.Plan.one_at_a_time: each
    framework's worker staged and timed with no other alive)."""
    quick = rounds.Plan(
        bench=BENCH, keys="128", alternations=6, sample_time=0.15, reference="torch:cpu", one_at_a_time=one_at_a_time
    )
    env = worker_env(ROOT, None)
    rng = random.Random(int(time.time()))
    kinds = ["alone", "fresh", "as-run"] if both else ["alone", "as-run" if as_run else "fresh"]
    rows: dict[str, list[record.Measurement]] = {kind: [] for kind in kinds}
    forks = ForkServers()

    def start_as_run(arm: rounds.Arm, bench: str, env: dict):
        return forks(arm, bench, rounds.staging_env(arm, env))

    try:
        for round_no in range(1, n + 1):
            for kind in rng.sample(kinds, len(kinds)):
                if kind == "alone":
                    rows[kind] += alone_rounds(
                        frameworks, 1, quick.alternations, quick.sample_time, round_no, pause, as_long=as_long
                    )
                    continue
                arms = [rounds.Arm(f"{fw}:cpu", ROOT, fw, "cpu") for fw in frameworks]
                spent = rounds.Spent()
                start = start_as_run if kind == "as-run" else rounds.start_worker
                rows[kind] += rounds.one_round(arms, quick, env, round_no, rng, start=start, spent=spent)
                spent.reap()
            print(f"round {round_no}/{n} ({', '.join(kinds)}) done", file=sys.stderr, flush=True)
    finally:
        forks.close()
    return tuple(record.frame_of(rows[kind]) for kind in kinds)


def gaps(
    alone: pd.DataFrame, paired: pd.DataFrame, alone_is_paired: bool = False, estimator: str = "mean"
) -> pd.DataFrame:
    """Per framework and benchmark: the ratio to torch alone, paired, and paired over alone round by
    round (one log difference per round), each by `estimator` (ESTIMATORS) with its 95% interval. With
    `alone_is_paired` the first frame is paired rounds too (fresh against as run), read as the engine
    reads them."""
    a, p = _round_logs(alone, mean_logs=not alone_is_paired), _round_logs(paired, mean_logs=False)
    fn = ESTIMATORS[estimator]
    out = []
    for (fw, bench), d in (p - a).dropna().groupby(level=["framework", "benchmark"]):
        g = fn(d.to_numpy())
        row = {"framework": fw, "benchmark": bench, "rounds": g.rounds}
        row.update(alone=_ratio(a, fw, bench, fn), paired=_ratio(p, fw, bench, fn))  # throughput ratios to torch
        out.append({**row, "paired_over_alone": _inv(g.ratio), "low": _inv(g.high), "high": _inv(g.low)})
    return pd.DataFrame(out)


def add_estimator(p: argparse.ArgumentParser) -> None:
    """The --estimator option of every probe that prints paired over alone (gaps)."""
    p.add_argument(
        "--estimator", choices=list(ESTIMATORS), default="mean", help="how paired over alone is estimated over rounds"
    )


def _mean_logs(rows: pd.DataFrame) -> pd.Series:
    """One process's mean log sample per round."""
    return rows.set_index("round").samples.map(lambda s: float(np.mean(np.log(estimate._samples(s)))))


def _ratio(logs: pd.Series, fw: str, bench: str, fn: Callable[..., stats.Paired]) -> str:
    """A throughput ratio to torch with its interval, from one condition's per-round logs."""
    g = fn(logs.loc[(fw, bench)].dropna().to_numpy())
    return f"{_inv(g.ratio):.3f} [{_inv(g.high):.3f}, {_inv(g.low):.3f}]"


def _inv(x: float) -> float:
    return 1 / x if x else math.inf


def _round_logs(frame: pd.DataFrame, mean_logs: bool) -> pd.Series:
    """log(time ratio to torch) per (framework, benchmark, round): alone from the two processes' mean
    logs, paired as the engine pairs them (estimate.round_log_ratios, bracketed)."""
    ok = estimate.ok_rows(frame)
    out = {}
    for bench, group in ok.groupby("benchmark"):
        ref = group[group.framework == "torch"]
        for fw, rows in group[group.framework != "torch"].groupby("framework"):
            if mean_logs:
                d = (_mean_logs(rows) - _mean_logs(ref)).dropna()
            else:  # as the engine reads them: bracketed, or each process alone (Plan.one_at_a_time)
                together = estimate.timed_together(rows, ref)
                d = estimate.round_log_ratios(estimate.by_round(rows), estimate.by_round(ref), together)
            for round_no, v in d.items():
                out[(fw, bench.split(".")[1], round_no)] = v
    return pd.Series(out, dtype=float).rename_axis(["framework", "benchmark", "round"]).sort_index()


def alone_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Per framework, benchmark and key: throughput ratio to torch from per-round means of logs."""
    ok = estimate.ok_rows(frame)
    out = []
    for (bench, key), group in ok.groupby(["benchmark", "key"]):
        ref = _mean_logs(group[group.framework == "torch"])
        for fw, rows in group[group.framework != "torch"].groupby("framework"):
            d = (_mean_logs(rows) - ref).dropna().to_numpy()
            p = stats.paired_logs(d)
            out.append(
                {
                    "framework": fw,
                    "benchmark": bench,
                    "key": key,
                    "alone": 1 / p.ratio,
                    "alone_low": 1 / p.high,
                    "alone_high": 1 / p.low,
                    "alone_rounds": p.rounds,
                }
            )
    return pd.DataFrame(out)


def paired_ratios(path: Path) -> pd.DataFrame:
    frame = rounds_file.load(path)
    r = estimate.ratios(frame, "torch:cpu")
    return pd.DataFrame(
        {
            "framework": r.arm.str.split(":").str[0],
            "benchmark": r.benchmark,
            "key": r.key,
            "paired": 1 / r.ratio,
            "paired_low": 1 / r.high,
            "paired_high": 1 / r.low,
            "paired_rounds": r.rounds,
        }
    )


def combined(saves: list[Path], kinds: tuple[str, ...] = ("alone", "paired")) -> tuple[pd.DataFrame, ...]:
    """The rounds of several interleaved runs per kind (their files SAVE-KIND.csv), each run's rounds
    numbered after the last. A SAVE written SAVE:as-run reads SAVE-as-run.csv as its paired rounds (a
    --both run pooled with --as-run ones)."""
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in kinds}
    offset = 0
    for save in saves:
        path, _, paired = str(save).partition(":")
        names = {kind: paired if kind == "paired" and paired else kind for kind in kinds}
        frames = {kind: rounds_file.load(Path(f"{path}-{names[kind]}.csv")) for kind in kinds}
        for kind, frame in frames.items():
            parts[kind].append(frame.assign(round=frame["round"] + offset))
        offset += int(max(frame["round"].max() for frame in frames.values()))
    return tuple(pd.concat(parts[kind], ignore_index=True) for kind in kinds)


def _three_tables(alone: pd.DataFrame, fresh: pd.DataFrame, as_run: pd.DataFrame, estimator: str) -> None:
    """Paired fresh over alone, paired as run over alone, and as run over fresh, round by round."""
    for title, table in (
        ("paired, fresh workers, over alone", gaps(alone, fresh, estimator=estimator)),
        ("paired, workers as run starts them, over alone", gaps(alone, as_run, estimator=estimator)),
        ("as run over fresh, both paired", gaps(fresh, as_run, alone_is_paired=True, estimator=estimator)),
    ):
        print(f"\n{title}\n")
        print(table.to_markdown(index=False, floatfmt=".3f"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--alternations", type=int, default=8, help="samples per process and benchmark")
    p.add_argument("--sample-time", type=float, default=0.1)
    p.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS))
    p.add_argument("--paired", type=Path, help="a run's rounds file to set beside")
    p.add_argument("--save", type=Path, help="write the alone rounds here (CSV)")
    p.add_argument("--add", type=Path, help="an earlier --save of this probe: its rounds are added to these")
    p.add_argument("--interleave", action="store_true", help="a paired round beside every alone round")
    p.add_argument("--pause", type=float, default=0.0, help="seconds each alone process idles after its setup")
    p.add_argument(
        "--as-run",
        action="store_true",
        help="with --interleave: paired workers started as `run` starts them (PyTorch forked, JAX's compile cache)",
    )
    p.add_argument(
        "--both",
        action="store_true",
        help="with --interleave or --combine: every round also a paired round of each kind, fresh and as run",
    )
    p.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="with --interleave: the engine's round as `run` takes it since version 3, each process alone",
    )
    p.add_argument(
        "--as-long",
        action="store_true",
        help="PyTorch's alone process takes as many samples as a paired round's reference (the same age)",
    )
    p.add_argument(
        "--combine", nargs="+", type=Path, metavar="SAVE", help="the table over earlier --interleave --save runs"
    )
    add_estimator(p)
    a = p.parse_args()
    if a.combine or a.interleave:  # SAVE-alone.csv, SAVE-paired.csv (fresh, or as run with --as-run), SAVE-as-run.csv
        files = ("alone", "paired", "as-run") if a.both else ("alone", "paired")
        if a.combine:
            frames = combined(a.combine, files)
        else:
            frames = interleaved(a.frameworks, a.rounds, a.pause, a.as_run, a.both, a.as_long, a.one_at_a_time)
            if a.save:  # rounds files, as the engine writes them
                for frame, kind in zip(frames, files):
                    rounds_file.write(frame, Path(f"{a.save}-{kind}.csv"))
        if a.both:
            _three_tables(*frames, a.estimator)
        else:
            print(gaps(*frames, estimator=a.estimator).to_markdown(index=False, floatfmt=".3f"))
        return
    rows = alone_rounds(a.frameworks, a.rounds, a.alternations, a.sample_time, pause=a.pause) if a.rounds else []
    frame = record.frame_of(rows)
    if a.add:
        old = rounds_file.load(a.add)
        frame = pd.concat([old, frame.assign(round=frame["round"] + int(old["round"].max()))], ignore_index=True)
    if a.save:
        rounds_file.write(frame, a.save)
    table = alone_ratios(frame)
    if a.paired:
        table = table.merge(paired_ratios(a.paired), on=["framework", "benchmark", "key"], how="left")
        table["alone_in_paired"] = [  # the alone estimate inside the published interval
            pl <= al <= ph if not math.isnan(pl) else None
            for pl, ph, al in zip(table.paired_low, table.paired_high, table.alone)
        ]
        table["overlap"] = [
            not (ph < al or pl > ah) if not math.isnan(pl) else None
            for pl, ph, al, ah in zip(table.paired_low, table.paired_high, table.alone_low, table.alone_high)
        ]
    table["benchmark"] = table.benchmark.str.split(".").str[1]
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
