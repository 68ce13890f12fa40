"""The one record of a measurement, from the engine to the store and the report: an arm's value for
one benchmark and parameters in one round. Its identity is (arm, benchmark, key, round) within a run.
Every ratio made of two of them is value over value in the stored unit (time, bytes, error rate; > 1
slower or larger); the report's throughput ratios, its inverse, are named speedup, never ratio."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

STATUSES = ("ok", "skipped", "failed", "invalid")  # invalid: a stored value no measurement gives (report)
STATISTICS = {
    "mean": "the mean per-call time over one round's samples (the engine)",
    "median": "asv's median over the processes it stored (a results file, read by the report)",
    "seed": "one accuracy seed's value (its epochs or error rate)",
}
LISTS = ("samples", "bracket", "after", "gap")  # per-sample fields: tuples in the record, text in a rounds file


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One arm's value for one benchmark and parameters in one round (the process, or the seed of an
    accuracy run): what the engine measures, its stored rounds file, the asv results written from it,
    compare's sides (arm "base" / "head") and the report's ratios. Frozen, built by keyword only, and
    checked where it is built: a bad value is a ValueError naming the field (an unknown field is
    Python's TypeError naming it)."""

    arm: str
    framework: str
    device: str
    benchmark: str
    param: int  # asv's index into the benchmark's parameter grid
    params: str  # every parameter, "torch, cpu, 128"
    key: str  # the parameters without framework and device: what arms are paired on ("128")
    round: int = 0  # the engine's round (its process), from 1; 0 for a value that is not one round's
    seed: int | None = None  # an accuracy run's seed (its unit of replication); None for everything else
    value: float = math.nan  # in `unit`: the `statistic` of the samples
    statistic: str = "mean"  # STATISTICS: what `value` is
    samples: tuple[float, ...] = ()  # per-call seconds of each sample, in the order taken (sample k = pass k)
    bracket: tuple[float, ...] = ()  # with a reference arm: its per-call seconds around each of these samples
    # (the geometric mean of the reference samples just before and just after), what sample k is paired with
    after: tuple[str, ...] = ()  # the arm whose sample (or calibration) ran just before each sample, "-" for none
    gap: tuple[float, ...] = ()  # seconds from the end of that arm's sample to the start of each (settling included)
    number: int | None = None  # calls per sample
    unit: str = "seconds"
    status: str = "ok"  # STATUSES
    reason: str = ""
    version: str | None = None
    all_params: str = "[]"  # asv's parameter grid (JSON), for writing asv results

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ValueError(f"Measurement of {self.arm} {self.benchmark}: {problem}")


def _problem(m: Measurement) -> str | None:
    """The first field of `m` that no measurement holds, said with its value; None when all hold."""
    if m.status not in STATUSES:
        return f"status {m.status!r} is not one of {', '.join(STATUSES)}"
    if m.statistic not in STATISTICS:
        return f"statistic {m.statistic!r} is not one of {', '.join(STATISTICS)}"
    for name in LISTS:
        if not isinstance(getattr(m, name), tuple):
            return f"{name} {getattr(m, name)!r} is not a tuple"
    if m.seed is not None and (isinstance(m.seed, bool) or not isinstance(m.seed, int) or m.seed < 0):
        return f"seed {m.seed!r} is not a whole number of at least 0"
    if any(not isinstance(v, (int, float)) or not 0 < v < math.inf for v in m.samples):
        return f"samples {m.samples!r} are not positive finite times"
    if any(not isinstance(v, (int, float)) or v <= 0 for v in m.bracket):  # NaN: the reference failed around it
        return f"bracket {m.bracket!r} is not positive times"
    if m.after and len(m.after) != len(m.samples) or m.gap and len(m.gap) != len(m.samples):
        return f"after ({len(m.after)}) and gap ({len(m.gap)}) do not have one entry per sample ({len(m.samples)})"
    for name in ("param", "round"):
        value = getattr(m, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{name} {value!r} is not a whole number of at least 0"
    if m.number is not None and (isinstance(m.number, bool) or not isinstance(m.number, int) or m.number < 1):
        return f"number {m.number!r} is not a count of calls"
    if m.status == "ok":
        if not isinstance(m.value, (int, float)) or not math.isfinite(m.value):
            return f"value {m.value!r} is not a finite number, but the status is ok"
        if m.value < 0 or (m.unit == "seconds" and m.value == 0):
            return f"value {m.value!r} is not a {'time' if m.unit == 'seconds' else 'size or rate'}"
    return None


PLACE = ("framework", "device")  # parameters that say where a job runs, not what it measures
IDENTITY = ("framework", "device", "benchmark", "key")  # what a measurement is of, within a run (machine,
# commit) and round: what the report's cells, its series of change points and its verdicts are matched on


def key_of(names, values) -> str:
    """The identity of a parameter combination beside its benchmark, framework and device: the other
    parameters' values, unquoted, joined ("128", "fused", "bf16, 3"; "" for none). What arms are paired
    on in a round and what a stored row is matched on; every value kept where the names are unknown."""
    return params_of([v for n, v in zip(names, values) if n not in PLACE] if names else values)


def params_of(values) -> str:
    """Every parameter's value, unquoted, joined: the record's `params` ("torch, cpu, 128")."""
    return ", ".join(str(v).strip("'") for v in values)


STORED = [  # the rounds file's columns: a round's record without what its asv results hold
    f for f in Measurement.__dataclass_fields__ if f not in ("version", "all_params", "seed", "statistic")
]


def frame_of(rows: list[Measurement]) -> pd.DataFrame:
    """Records as a frame with every field a column, also when there are none."""
    cols = list(Measurement.__dataclass_fields__)
    return pd.DataFrame([asdict(r) for r in rows], columns=cols)
