"""What paired rounds estimate: each arm's cell (per-call time with its interval), each ratio between
arms (from per-round pairs), each ratio within an arm (variant vs default, same process), and which
arms are bimodal from process to process. Every interval is the Hodges-Lehmann estimate with its
Wilcoxon signed-rank interval over rounds (bench/measure/stats.py), the rule `compare` judges by, except
where an arm's processes are bimodal or were each timed alone (rounds.Plan.one_at_a_time: a second of
samples per process, which a slow spell of the host now and then fills): there the mean of the logs with
its t interval, so that a slow mode counts in the proportion the processes show it; below the rounds a
signed-rank interval needs, a t interval too.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.measure import stats
from bench.workload.benchmarks import DEFAULT_KEY

REFERENCE = "torch"  # every framework's ratio is to this one (the first arm where it did not run)
RATIO_TARGET = {False: 0.05, True: 0.08}  # full / quick run: the widest a published ratio's 95% interval may be,
# the machine's run-to-run term included (widen): within one run ±3% was asked before, which no number of
# rounds reaches where that term alone is ±3.1% (docs/validation.md)
CELL_TARGET = 0.10  # the widest a published absolute cell's 95% interval may be


def _samples(entries) -> list[float]:
    """A record's per-sample times (a tuple); none where the row has none (an arm missing from a join: NaN)."""
    return [float(v) for v in entries] if isinstance(entries, tuple) else []


def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame.status == "ok") & frame.value.notna() & (frame.value > 0)]


def round_log_ratios(a: pd.DataFrame, b: pd.DataFrame, together: bool = True) -> pd.Series:
    """Per round, log(a / b) of two arms' rows (indexed by round): pair by pair over the samples
    taken in the same pass (stats.round_log_ratio), else from the two means. Where the two were not
    timed `together` (Plan.one_at_a_time: each process alone), sample k of one has nothing to do with
    sample k of the other: the difference of the two processes' mean log samples."""
    both = a.add_suffix("_a").join(b.add_suffix("_b"), how="inner")
    out = {}
    for r, row in both.iterrows():
        sa, sb = _samples(getattr(row, "samples_a", "")), _samples(getattr(row, "samples_b", ""))
        bracket = _samples(getattr(row, "bracket_a", ""))
        if sa and len(bracket) == len(sa):  # the reference samples taken around each of a's
            out[r] = stats.round_log_ratio(bracket, sa)
        elif sa and sb and not together:
            out[r] = float(np.mean(np.log(sa)) - np.mean(np.log(sb)))
        elif sa and sb:
            out[r] = stats.round_log_ratio(sb, sa)
        else:
            out[r] = math.log(row.value_a / row.value_b)
    return pd.Series(out, dtype=float)


def timed_together(*arms: pd.DataFrame) -> bool:
    """Whether arms' rows (arm, bracket and after columns) were sampled in passes with others: samples
    bracketed by another arm's, or taken just after another arm's. False only where every sample is
    recorded as following its own process (Plan.one_at_a_time); rows that do not say (no `after`) count
    as together, as every round was before that plan."""
    rows = pd.concat(arms)
    if "after" not in rows or any(isinstance(x, tuple) and x for x in rows.get("bracket", [])):
        return True
    said = [(arm, after) for arm, after in zip(rows.arm, rows.after) if isinstance(after, tuple) and after]
    return not said or any(set(after) - {arm, "-"} for arm, after in said)


def by_round(rows: pd.DataFrame) -> pd.DataFrame:
    """One arm's rows indexed by round: the value and, where kept, the samples and brackets."""
    cols = [c for c in ("value", "samples", "bracket") if c in rows]
    return rows.drop_duplicates("round", keep="last").set_index("round")[cols]


ESTIMATE = [f for f in stats.Paired.__dataclass_fields__ if f != "confidence"]  # an estimate's columns, from
# the one record of a paired estimate (stats.Paired): ratio, low, high, rounds, sd


def _paired_row(p: stats.Paired, **ids: str) -> dict:
    """One estimated ratio as a row: what it compares (`ids`) and the estimate's fields (ESTIMATE)."""
    return {**ids, **{f: getattr(p, f) for f in ESTIMATE}}


def ratios(frame: pd.DataFrame, reference: str, confidence: float = 0.95) -> pd.DataFrame:
    """Every other arm against `reference`, per benchmark and key: time ratio arm/reference (1.25 =
    takes 25% longer) with its interval, from the rounds where both ran. Where either arm's processes are
    bimodal, or each process was timed alone (timed_together), the mean over rounds (stats.mixture_logs):
    the ratio never drops a slow mode or a process's slow spell."""
    ok = ok_rows(frame)
    out = []
    flags = bimodal(frame)
    for (bench, key), group in ok.groupby(["benchmark", "key"], sort=False):
        ref = group[group.arm == reference]
        if ref.empty:
            continue
        for arm, rows in group[group.arm != reference].groupby("arm", sort=False):
            mixed = flags.get((arm, bench, key), False) or flags.get((reference, bench, key), False)
            together = timed_together(rows, ref)
            estimator = stats.mixture_logs if mixed or not together else stats.paired_logs
            p = estimator(round_log_ratios(by_round(rows), by_round(ref), together).to_numpy(), confidence)
            out.append(_paired_row(p, benchmark=bench, key=key, arm=arm, reference=reference))
    return pd.DataFrame(out, columns=["benchmark", "key", "arm", "reference", *ESTIMATE])


CARRYOVER_LIMIT = 0.01  # a carry-over established beyond this is named by run, noise and the page


def carryover(frame: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """How much longer an arm's sample takes when another arm's sample ran just before it than when
    its own did (a crossover design's carry-over term), per (previous arm, arm): one log-ratio per
    round (the mean log of the samples after `after` minus after itself, averaged over the round's
    benchmarks and keys), then the interval over rounds. Only arms sampled after themselves too (the
    reference in R A R B R; both in ABBA) can be estimated."""
    per: dict[tuple[str, str], dict[int, list[float]]] = {}
    rows = ok_rows(frame)
    for row in rows.itertuples() if "after" in rows else []:
        logs, before = np.log(_samples(row.samples)), list(row.after)
        if len(before) != len(logs) or row.arm not in before:
            continue
        own = float(np.mean([v for v, b in zip(logs, before) if b == row.arm]))
        for other in sorted(set(before) - {row.arm, "-"}):
            shift = float(np.mean([v for v, b in zip(logs, before) if b == other])) - own
            per.setdefault((other, row.arm), {}).setdefault(int(row.round), []).append(shift)
    out = []
    for (other, arm), by_round_shifts in per.items():
        p = stats.paired_logs([float(np.mean(v)) for v in by_round_shifts.values()], confidence)
        out.append(_paired_row(p, after=other, arm=arm))
    return pd.DataFrame(out, columns=["after", "arm", *ESTIMATE])


def carryover_named(table: pd.DataFrame, limit: float = CARRYOVER_LIMIT) -> pd.DataFrame:
    """The carry-overs established beyond `limit`: the estimate beyond it and the interval clear of none."""
    if table.empty:
        return table
    beyond = (table.ratio > 1 + limit) & (table.low > 1) | (table.ratio < 1 - limit) & (table.high < 1)
    return table[beyond]


def describe_carryover(table: pd.DataFrame, limit: float = CARRYOVER_LIMIT) -> str:
    """One line: the largest carry-over estimated and every one established beyond `limit`."""
    if table.empty:
        return (
            "carry-over: not estimable (no arm was sampled after itself and after another; where each "
            "process is timed alone, no sample follows another arm's)"
        )
    named = carryover_named(table, limit)
    worst = table.loc[(np.log(table.ratio)).abs().idxmax()]
    said = ", ".join(carry_text(r) for r in named.itertuples()) if len(named) else "none"
    return (
        f"carry-over (a sample after another arm's against after its own; {len(table)} pairs of arms): "
        f"beyond {limit:.0%}: {said}; largest {carry_text(worst)}"
    )


def carry_text(r) -> str:
    """'torch:cpu after keras-torch:cpu +6.5% [+3.1%, +9.0%] (8 rounds)' of one carryover() row."""
    return f"{r.arm} after {r.after} {r.ratio - 1:+.1%} [{r.low - 1:+.1%}, {r.high - 1:+.1%}] ({r.rounds} rounds)"


def within(frame: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Within each arm, every key of a DEFAULT_KEY benchmark against its default key: per round the
    ratio of the two means measured in the same process, then the interval over rounds."""
    ok = ok_rows(frame)
    out = []
    for (arm, bench), group in ok[ok.benchmark.isin(DEFAULT_KEY)].groupby(["arm", "benchmark"], sort=False):
        default = group[group.key == DEFAULT_KEY[bench]]
        if default.empty:
            continue
        base = by_round(default).value
        for key, rows in group[group.key != DEFAULT_KEY[bench]].groupby("key", sort=False):
            logs = np.log(by_round(rows).value / base).dropna()
            p = stats.paired_logs(logs.to_numpy(), confidence)
            out.append(_paired_row(p, arm=arm, benchmark=bench, key=key, reference=DEFAULT_KEY[bench]))
    return pd.DataFrame(out, columns=["arm", "benchmark", "key", "reference", *ESTIMATE])


def cells(frame: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Each arm's per-call time per benchmark and key: the Hodges-Lehmann centre of the per-round
    (per-process) log values with its interval, and whether the processes are bimodal (then, as where
    each process was timed alone, the mean of the logs with its t interval: both modes in the proportion
    the processes show)."""
    ok = ok_rows(frame)
    out = []
    flags = bimodal(frame)
    for (arm, bench, key), rows in ok.groupby(["arm", "benchmark", "key"], sort=False):
        logs = np.log(by_round(rows).value.to_numpy())
        mixed = bool(flags.get((arm, bench, key), False)) or not timed_together(rows)
        est, low, high = stats.t_interval(logs, confidence) if mixed else stats.hodges_lehmann(logs, confidence)
        if not math.isfinite(high) and logs.size >= 2:  # fewer rounds than a signed-rank 95% needs
            est, low, high = stats.t_interval(logs, confidence)
        out.append(
            {
                "arm": arm,
                "benchmark": bench,
                "key": key,
                "value": math.exp(est),
                "low": math.exp(low),
                "high": math.exp(high),
                "rounds": int(logs.size),
                "sd": stats.robust_sd(logs),
                "bimodal": bool(flags.get((arm, bench, key), False)),
            }
        )
    return pd.DataFrame(out, columns=["arm", "benchmark", "key", "value", "low", "high", "rounds", "sd", "bimodal"])


def half_width(ratio: float, low: float, high: float) -> float:
    """The larger relative distance from an estimate to its interval's ends (inf when unbounded)."""
    if not (ratio > 0 and low > 0 and math.isfinite(high)):
        return math.inf
    return max(high / ratio - 1, 1 - low / ratio)


def residuals(frame: pd.DataFrame) -> pd.DataFrame:
    """Each arm's per-round log value, centred on the arm's median, minus the round's drift (the median
    over arms of their centred values in that round, same benchmark and key): what is left is the
    process's own, the machine's drift shared by every arm of a round taken out."""
    ok = ok_rows(frame).assign(log=lambda f: np.log(f.value))
    centred = ok.log - ok.groupby(["arm", "benchmark", "key"]).log.transform("median")
    ok = ok.assign(centred=centred)
    drift = ok.groupby(["benchmark", "key", "round"]).centred.transform("median")
    return ok.assign(residual=ok.centred - drift)


def bimodal(frame: pd.DataFrame, min_gap: float = 0.10) -> dict[tuple[str, str, str], bool]:
    """(arm, benchmark, key) -> True when its processes fall in two groups: the largest gap between
    sorted per-round residuals exceeds `min_gap` (log) and 4 robust sds of the groups, with at least
    two rounds (and 15% of them) on each side. Needs three arms or more to separate the arm from drift."""
    res = residuals(frame)
    out: dict[tuple[str, str, str], bool] = {}
    if res.arm.nunique() < 3:
        return out
    for key, rows in res.groupby(["arm", "benchmark", "key"], sort=False):
        out[key] = is_bimodal(rows.residual.to_numpy(), min_gap)
    return out


def is_bimodal(values, min_gap: float = 0.10) -> bool:
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    least = max(2, math.ceil(0.15 * n))
    if n < 2 * least:
        return False
    gaps = np.diff(v)
    candidates = range(least - 1, n - least)
    i = max(candidates, key=lambda j: gaps[j])
    low, high = v[: i + 1], v[i + 1 :]
    spread = np.concatenate([low - np.median(low), high - np.median(high)])
    sd = stats.robust_sd(spread)
    return bool(gaps[i] > min_gap and gaps[i] > 4 * max(sd, 1e-3))


def open_items(
    frame: pd.DataFrame,
    reference: str,
    ratio_width: float,
    cell_width: float,
    confidence: float = 0.95,
    tau: float = 0.0,
) -> list[str]:
    """What is not yet decided to its width: ratios to the reference beyond `ratio_width` once widened
    by the machine's run-to-run log sd `tau` (as the report publishes them), ratios within arms beyond
    it, cells beyond `cell_width` (relative half-widths). Empty: the rounds can stop."""
    left = []
    for r in ratios(frame, reference, confidence).itertuples():
        if half_width(*published(r.ratio, r.low, r.high, tau)) > ratio_width:
            left.append(f"{r.arm} {r.benchmark.split('.')[1]} {r.key} ratio")
    for r in within(frame, confidence).itertuples():
        if half_width(r.ratio, r.low, r.high) > ratio_width:
            left.append(f"{r.arm} {r.benchmark.split('.')[1]} {r.key} ratio")
    for c in cells(frame, confidence).itertuples():
        if half_width(c.value, c.low, c.high) > cell_width:
            left.append(f"{c.arm} {c.benchmark.split('.')[1]} {c.key}")
    return left


def between_runs(runs: list[pd.DataFrame], reference: str, confidence: float = 0.95) -> dict:
    """The run-to-run spread of the ratios to `reference` that one run's intervals cannot see, from
    separate runs of the same code on one machine. Honest intervals of two runs put their two estimates
    of a ratio within the runs' combined half-width (z * sqrt(se_1^2 + se_2^2), se a run's log half-width
    / z) for `confidence` of the ratios. tau is the smallest run-level log sd that, added to each run
    (2 tau^2 to the difference), brings every pair of runs to that share: a calibration against what
    was observed. Returns tau, the ratio pairs it rests on, and the share that agreed without it."""
    z = stats.z(confidence)
    diffs, variances = [], []
    tables = [ratios(frame, reference, confidence) for frame in runs]
    for i in range(len(tables)):
        for j in range(i + 1, len(tables)):
            both = tables[i].merge(tables[j], on=["benchmark", "key", "arm"], suffixes=("_1", "_2"))
            both = both[(both.low_1 > 0) & (both.low_2 > 0) & np.isfinite(both.high_1) & np.isfinite(both.high_2)]
            diffs += list(np.abs(np.log(both.ratio_1 / both.ratio_2)))
            variances += list(
                ((np.log(both.high_1 / both.low_1)) ** 2 + np.log(both.high_2 / both.low_2) ** 2) / (2 * z) ** 2
            )
    if not diffs:
        return {"tau": 0.0, "pairs": 0, "ratios": 0, "agreed": math.nan}
    d, v = np.array(diffs), np.array(variances)

    def share(tau: float) -> float:
        return float(np.mean(d <= z * np.sqrt(v + 2 * tau**2)))

    low, high = 0.0, 1.0
    if share(0.0) < confidence:
        for _ in range(40):  # the share grows with tau: bisect to the smallest tau that reaches it
            mid = (low + high) / 2
            low, high = (low, mid) if share(mid) >= confidence else (mid, high)
    tau = high if share(0.0) < confidence else 0.0
    return {"tau": tau, "pairs": len(d), "ratios": len(tables[0]), "agreed": share(0.0)}


def answer(frame: pd.DataFrame, reference: str, tau: float = 0.0, key: str = "128") -> pd.DataFrame:
    """The rounds so far as the answer: each arm's throughput over the reference's at batch `key`, per
    throughput benchmark (columns by class name), as published ("0.85x [0.80, 0.91]"; "[too few rounds]"
    where the rounds cannot bound it yet). Empty where nothing pairs yet."""
    table = ratios(frame, reference)
    table = table[(table.key == key) & table.benchmark.str.startswith("throughput.")]
    cells: dict[str, dict[str, str]] = {}
    for r in table.itertuples():
        speed, low, high = published(r.ratio, r.low, r.high, tau)
        bound = low > 0 and math.isfinite(high)
        text = f"{speed:.2f}x " + (f"[{low:.2f}, {high:.2f}]" if bound else "[too few rounds]")
        cells.setdefault(r.benchmark.split(".")[1], {})[r.arm.split(":")[0]] = text
    return pd.DataFrame(cells).fillna("")


def published(ratio: float, low: float, high: float, tau: float) -> tuple[float, float, float]:
    """A time ratio to the reference with its interval as the page publishes it: widened by the
    machine's run-to-run log sd `tau`, then as throughput (inverted). The stop rule judges the same. An
    interval too few rounds cannot bound ((0, inf) below stats.MIN_ROUNDS) stays unbounded: (0, inf)."""
    lo, hi = widen(ratio, low, high, tau)
    return 1 / ratio, 1 / hi if hi > 0 else math.inf, 1 / lo if lo > 0 else math.inf


def widen(ratio: float, low: float, high: float, tau: float, confidence: float = 0.95) -> tuple[float, float]:
    """(low, high) of a ratio's interval at `confidence` with a run-to-run log sd `tau` added in quadrature."""
    if not (tau > 0 and ratio > 0 and low > 0 and math.isfinite(high)):
        return low, high
    extra = (stats.z(confidence) * tau) ** 2
    lo = math.log(ratio / low)
    hi = math.log(high / ratio)
    return ratio * math.exp(-math.sqrt(lo**2 + extra)), ratio * math.exp(math.sqrt(hi**2 + extra))
