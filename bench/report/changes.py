"""Change points in the stored history: for every (machine, benchmark, parameters) series, the commits
where its level steps and stays: ruptures' PELT on the log values, each point weighted by its stored
interval (chosen over asv's Potts fits, side by side on seeded series: docs/validation.md, "Change
points"); each step's size with a 95% interval, and the benchmarks that stepped at the same commit.
A series is cut where its benchmark's version changes (a change of method, `method_breaks`): each
version's stretch is searched on its own, so a step at the cut is never a change point."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.measure.stats import THRESHOLD, Z95, robust_sd, z
from bench.report.load import STORED_CONFIDENCE, label
from bench.store.record import IDENTITY
from bench.workload.benchmarks import METRICS

STEP = ["ratio", "low", "high"]  # a step: new level / old level, with its interval
SERIES = ["machine", *IDENTITY]  # one series per machine and measured thing (store.record.IDENTITY)
MIN_CHANGE = THRESHOLD  # steps smaller than the verdicts' one threshold are not reported
Z_NEWEST = 3.0  # the newest commits' step is tested on every report, on every series: a stricter bar
MIN_LEVEL = 3  # commits a level lasts before it counts (one or two slow runs are not a new level)
GAMMA = 5.0  # the Potts penalty per step, in units of a point's noise (docs/validation.md: rates by gamma)
PELT_PENALTY = 12.0  # PELT's penalty per step, in units of a point's variance (docs/validation.md)
MAX_POINT_SD = 0.08  # a stored point noisier than this (log sd; asv's 99% interval wider than about ±23%) is
# left out of the fit and named: one such point (a noisy quick run) switched the gate off


@dataclass
class Step:
    """A persistent step in one series: `at` is the index of the first point of the new level."""

    at: int
    ratio: float  # new level / old level, of the stored values (seconds, bytes, error: lower is better)
    low: float
    high: float


def detect(
    values: np.ndarray, sds: np.ndarray, min_change: float = MIN_CHANGE, method: str | None = None
) -> list[Step]:
    """Steps in one series (oldest first) of stored values with each point's log sd: a segmentation of
    the logs (`method`, one of SEGMENTERS; default METHOD), each point weighted by its noise; a step is
    kept when it is at least `min_change` and its 95% interval (the two levels' medians and their
    standard errors) excludes no change. The newest one or two commits are tested on their own."""
    logs = np.log(np.asarray(values, dtype=float))
    sds = np.asarray(sds, dtype=float)
    known = sds[np.isfinite(sds) & (sds > 0)]
    typical = float(np.median(known)) if known.size else 0.03
    sds = np.where(np.isfinite(sds) & (sds > 0), np.maximum(sds, 0.2 * typical), typical)
    if logs.size < 3:
        return []
    n = len(logs)
    bounds = [0, *SEGMENTERS[method or METHOD](logs, sds)]
    steps = [s for l0, l1, r1 in zip(bounds, bounds[1:], bounds[2:]) if (s := _step(logs, sds, l0, l1, r1, min_change))]
    tail = steps[-1].at if steps else 0  # the level the newest commits belong to: since the last kept step
    # (the newest one or two commits may start a level before it lasts: CI must hear first)
    if n - tail > MIN_LEVEL:
        newest = [
            s
            for k in (1, 2)
            if n - k - tail >= MIN_LEVEL and (s := _step(logs, sds, tail, n - k, n, min_change, Z_NEWEST))
        ]
        if newest:
            steps.append(max(newest, key=lambda s: abs(math.log(s.ratio)) / math.log(s.high / s.low)))
    return steps


def potts(logs: np.ndarray, sds: np.ndarray, gamma: float = GAMMA) -> list[int]:
    """asv's exact Potts fit (asv.step_detect.solve_potts: the piecewise-constant series minimising the
    points' weighted l1 distance plus `gamma` per step, weights 1/sd): each level's right end. About
    cubic in the number of points."""
    from asv.step_detect import solve_potts

    right, _, _ = solve_potts(list(logs), list(1.0 / sds), gamma, min_size=MIN_LEVEL)
    return list(right)


def potts_approx(logs: np.ndarray, sds: np.ndarray, gamma: float = GAMMA) -> list[int]:
    """asv's linear-time Potts fit (asv.step_detect.solve_potts_approx: exact on short pieces, then
    neighbours merged where that lowers the cost)."""
    from asv.step_detect import solve_potts_approx

    right, _, _ = solve_potts_approx(list(logs), list(1.0 / sds), gamma, min_size=MIN_LEVEL)
    return list(right)


def pelt(logs: np.ndarray, sds: np.ndarray, penalty: float = PELT_PENALTY) -> list[int]:
    """ruptures' PELT on the logs with a Gaussian cost weighted by each point's noise (the sum of
    squared deviations from the level's weighted mean, in units of each point's variance), so that
    `penalty` per step is in units of a point's noise too; linear in the points on average."""
    import ruptures

    fit = ruptures.Pelt(custom_cost=_weighted_l2(), min_size=MIN_LEVEL, jump=1)
    return [int(b) for b in fit.fit(np.column_stack([logs, 1.0 / sds**2])).predict(pen=penalty)]


def _weighted_l2():
    """ruptures' cost interface for sum w (y - weighted mean)^2 (y: the logs, w: 1/variance), from
    cumulative sums: O(1) per segment."""
    from ruptures.base import BaseCost

    class WeightedL2(BaseCost):
        model = "weighted_l2"
        min_size = MIN_LEVEL

        def fit(self, signal: np.ndarray) -> WeightedL2:
            self.signal = signal
            y, w = signal[:, 0], signal[:, 1]
            self.w, self.wy, self.wyy = (np.concatenate([[0.0], np.cumsum(a)]) for a in (w, w * y, w * y * y))
            return self

        def error(self, start: int, end: int) -> float:
            w, wy = self.w[end] - self.w[start], self.wy[end] - self.wy[start]
            return float(self.wyy[end] - self.wyy[start] - wy * wy / w)

    return WeightedL2()


def _step(
    logs: np.ndarray, sds: np.ndarray, l0: int, l1: int, r1: int, min_change: float, z: float = Z95
) -> Step | None:
    """The step from level [l0, l1) to level [l1, r1), if it is at least min_change and beyond `z`
    standard errors; its 95% interval."""
    diff, se = _level_difference(logs[l0:l1], sds[l0:l1], logs[l1:r1], sds[l1:r1])
    if abs(math.expm1(diff)) < min_change or abs(diff) < z * se:
        return None
    return Step(l1, math.exp(diff), math.exp(diff - z * se), math.exp(diff + z * se))


def _level_difference(a: np.ndarray, sa: np.ndarray, b: np.ndarray, sb: np.ndarray) -> tuple[float, float]:
    """Difference of the two levels and its standard error: each level's spread between its
    points where it has several, never less than its points' own stored sds allow."""

    def level(x: np.ndarray, s: np.ndarray) -> tuple[float, float]:
        """Median and its standard error (robust: one slow run in a level moves neither much, and one
        point with a wide interval does not widen the level: the median of its points' own sds)."""
        own = float(np.median(s))  # one point's sd, from its own interval
        centre = float(np.median(x))
        between = robust_sd(x) if x.size > 2 else own
        return centre, max(between, own) * math.sqrt(math.pi / 2) / math.sqrt(x.size)

    ma, ea = level(a, sa)
    mb, eb = level(b, sb)
    return mb - ma, math.hypot(ea, eb)


SEGMENTERS = {"potts": potts, "potts-approx": potts_approx, "pelt": pelt}
METHOD = "pelt"  # the best of the three on seeded series, and linear in time (docs/validation.md, "Change points")


def change_points(frame: pd.DataFrame, min_change: float = MIN_CHANGE) -> pd.DataFrame:
    """One row per change point over every series of ok results: machine, benchmark, parameters, the
    last commit of the old level (`before`) and the first of the new (`after`), the change with its
    interval, whether `after` is the series' newest commit, and the other benchmarks of the machine
    that stepped at the same commit."""
    ok = frame[(frame.status == "ok") & frame.value.gt(0)]
    rows, left_out = [], []
    for key, whole in ok.groupby(SERIES, dropna=False, sort=True):
        whole = whole.sort_values("date").drop_duplicates("commit", keep="last")
        newest = whole.commit.iloc[-1]
        for series in _methods(whole):
            wide = _point_sds(series) > MAX_POINT_SD
            if wide.any():
                left_out += [
                    f"{r.benchmark}({label(r)}) at {r.commit[:8]} on {r.machine}" for r in series[wide].itertuples()
                ]
                series = series[~wide]
            if len(series) < 3:
                continue
            sds = _point_sds(series)
            for step in detect(series.value.to_numpy(), sds, min_change):
                rows.append(
                    dict(
                        zip(SERIES, key),
                        metric=series.metric.iloc[0],
                        label=label(series.iloc[0]),
                        batch_size=series.batch_size.iloc[0],
                        before=series.commit.iloc[step.at - 1],
                        after=series.commit.iloc[step.at],
                        date=series.date.iloc[step.at],
                        ratio=step.ratio,
                        low=step.low,
                        high=step.high,
                        newest=series.commit.iloc[step.at] == newest,
                        points=len(series),
                    )
                )
    columns = [*SERIES, "metric", "label", "batch_size", "before", "after", "date", *STEP, "newest", "points"]
    out = pd.DataFrame(rows, columns=columns)
    out.attrs["left_out"] = left_out  # points too noisy to take part, named by report
    if out.empty:
        return out.assign(together="")
    names = out.benchmark.str.rsplit(".", n=1).str[-1] + "(" + out.label + ")"
    out["together"] = [
        ", ".join(
            n for n, m, a in zip(names, out.machine, out.after) if m == row.machine and a == row.after and n != me
        )
        for row, me in zip(out.itertuples(), names)
    ]
    return out.sort_values(["machine", "date", "benchmark", "label"]).reset_index(drop=True)


def _methods(series: pd.DataFrame) -> list[pd.DataFrame]:
    """A series (oldest first) cut into its stretches of one benchmark version each (a missing
    version, results stored without one, counts as its own)."""
    versions = series.version.fillna("").astype(str)
    stretch = (versions != versions.shift()).cumsum()
    return [part for _, part in series.groupby(stretch, sort=True)]


def method_breaks(frame: pd.DataFrame) -> pd.DataFrame:
    """Where each series' benchmark version changes: machine, identity, the last commit of the old method
    (`before`), the first of the new (`after`) and both versions. What the history plot draws as a break
    and what no change point or verdict crosses."""
    ok = frame[(frame.status == "ok") & frame.value.gt(0)]
    rows = []
    for key, whole in ok.groupby(SERIES, dropna=False, sort=True):
        parts = _methods(whole.sort_values("date").drop_duplicates("commit", keep="last"))
        for old, new in zip(parts, parts[1:]):
            rows.append(
                dict(
                    zip(SERIES, key),
                    metric=new.metric.iloc[0],
                    batch_size=new.batch_size.iloc[0],
                    before=old.commit.iloc[-1],
                    after=new.commit.iloc[0],
                    old_version=old.version.iloc[-1],
                    new_version=new.version.iloc[0],
                )
            )
    columns = [*SERIES, "metric", "batch_size", "before", "after", "old_version", "new_version"]
    return pd.DataFrame(rows, columns=columns)


def _point_sds(series: pd.DataFrame) -> np.ndarray:
    """Each stored point's log sd from its stored interval, asv's 99% one (load.STORED_CONFIDENCE; NaN
    where it has none)."""
    low, high = series.ci_low.to_numpy(dtype=float), series.ci_high.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.log(high) - np.log(low)) / (2 * z(STORED_CONFIDENCE))


def worse(metric: str, ratio: float) -> bool:
    """Whether a step of `ratio` (new level / old, of the stored value) is the worse way for `metric`:
    up for seconds, bytes and error rates, down for a higher-is-better value (the matmul peak's GFLOP/s)."""
    higher = metric in METRICS and METRICS[metric].higher_is_better
    return ratio < 1 if higher else ratio > 1


def change_text(row) -> str:
    """'+9.8% [+6.1%, +13.6%] worse (higher)': the step in the way people read it, the way that is
    worse or better for its metric."""
    up = row.ratio > 1
    word = ("worse" if worse(row.metric, row.ratio) else "better") + (" (higher)" if up else " (lower)")
    return f"{row.ratio - 1:+.1%} [{row.low - 1:+.1%}, {row.high - 1:+.1%}] {word}"


def newest_worse(changes: pd.DataFrame) -> pd.DataFrame:
    """Change points the newest commit of their series starts, the worse way for its metric: what main's
    CI fails on."""
    if changes.empty:
        return changes
    worse_way = pd.Series([worse(m, r) for m, r in zip(changes.metric, changes.ratio)], index=changes.index)
    return changes[changes.newest.astype(bool) & worse_way]
