"""Regression verdicts between two separate runs on one machine (the paired verdicts CI acts on
are bench/tasks/compare.py's).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from bench.core.repo import commit_of
from bench.core.text import md_table, md_text
from bench.measure import stats
from bench.report.load import ReportError, _merge_env, label, run_key
from bench.store.record import IDENTITY
from bench.workload.benchmarks import BENCHMARKS, METRICS


def resolve_commit(frame: pd.DataFrame, rev: str, machine: str | None, root: Path | None = None) -> str:
    """A revision (hash prefix, branch, tag, HEAD~1) -> a commit hash with results on `machine`."""
    pool = frame if machine is None else frame[frame.machine == machine]
    known = set(pool.commit)
    matches = {c for c in known if c.startswith(rev.lower())} if re.fullmatch(r"[0-9a-fA-F]{4,40}", rev) else set()
    if len(matches) == 1:
        return matches.pop()
    if len(matches) > 1:
        raise ReportError(f"revision {rev!r} is ambiguous: {sorted(c[:12] for c in matches)}")
    commit = commit_of(root, rev)
    if not commit:
        raise ReportError(f"unknown revision {rev!r}: not a commit here and not in the results")
    if commit not in known:
        where = f" on machine {machine!r}" if machine else ""
        raise ReportError(f"no results for {rev} ({commit[:8]}){where}; run `seqmnist-bench run` at that commit")
    return commit


def pick_revisions(
    frame: pd.DataFrame, base: str | None, head: str | None, machine: str | None, root: Path | None = None
) -> tuple[str, str, str]:
    """(machine, base, head): head defaults to the newest commit, base to the one before it on
    the same machine. Never across machines."""
    if frame.empty:
        raise ReportError("no asv results found: run `seqmnist-bench run` first")
    if machine is None:
        machines = sorted(frame.machine.unique())
        if head is not None:
            head_hash = resolve_commit(frame, head, None, root)
            machines = sorted(frame[frame.commit == head_hash].machine.unique())
        if len(machines) > 1:
            raise ReportError(f"results from several machines {machines}: choose one with --machine")
        machine = machines[0]
    elif machine not in set(frame.machine):
        raise ReportError(f"no results for machine {machine!r}; have {sorted(frame.machine.unique())}")
    mine = frame[frame.machine == machine]
    order = mine.groupby("commit")["date"].max().sort_values()
    head_hash = resolve_commit(mine, head, machine, root) if head else order.index[-1]
    if base:
        base_hash = resolve_commit(mine, base, machine, root)
    else:
        earlier = order[order.index != head_hash]
        earlier = earlier[earlier <= order[head_hash]]
        if earlier.empty:
            raise ReportError(f"no earlier commit than {head_hash[:8]} with results on {machine!r}: give --base")
        base_hash = earlier.index[-1]
    return machine, base_hash, head_hash


def gate_status(result: pd.DataFrame, fail_on_regression: bool) -> int:
    """`report --fail-on-regression`'s rule: 1 on a regression or a benchmark that fails at head."""
    return 1 if fail_on_regression and stats.gate_fails(result.get("verdict", ())) else 0


def verdicts_between(
    frame: pd.DataFrame,
    machine: str,
    base: str,
    head: str,
    threshold: float = stats.THRESHOLD,
    bench: str | None = None,
    frameworks=None,
    devices=None,
    allow_gone: str | None = None,
) -> pd.DataFrame:
    """Verdict per benchmark x params present at base or head on one machine.

    The one rule (stats.interval_verdict) on head/base turned so that above 1 is worse (asv values are
    lower-is-better, bar the matmul peak's GFLOP/s): the interval over processes where several ran each
    side, else the one asv's in-process intervals give (a point where it stored none). new / gone /
    failed from the statuses (stats.status_verdict).
    """
    keys = list(IDENTITY)
    chosen = (frame.attrs.get("selected") or {}).get(run_key(machine, head))  # what head's run asked for
    mine = _asked(frame[frame.machine == machine], bench, frameworks, devices)
    b = _merge_env(mine[mine.commit == base]).set_index(keys)
    h = _merge_env(mine[mine.commit == head]).set_index(keys)
    joined = b.add_suffix("_base").join(h.add_suffix("_head"), how="outer")
    rows = []
    for key, r in joined.iterrows():
        ids = dict(zip(keys, key))
        row = _verdict_row(ids, r, chosen, threshold, allow_gone)
        if row is not None:
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*keys, *SHOWN, "base", "head", "ratio", "verdict", "change"])
    out["rank"] = out.verdict.map(stats.VERDICTS.index)
    return out.sort_values(["rank", "benchmark", "framework", "device", "batch_size"]).drop(columns="rank")


def _asked(mine: pd.DataFrame, bench: str | None, frameworks, devices) -> pd.DataFrame:
    """Only what was asked for: asv's --bench regex on the benchmark name, the frameworks, the devices."""
    if bench:
        mine = mine[mine.benchmark.str.contains(bench, regex=True)]
    if frameworks:
        mine = mine[mine.framework.isin(frameworks)]
    if devices:
        mine = mine[mine.device.isin(devices)]
    return mine


def _verdict_row(ids: dict, r: pd.Series, chosen, threshold: float, allow_gone: str | None) -> dict | None:
    """One cell's verdict row from its base and head sides; None where it ran on neither."""
    shown = {c: _either(r, c) for c in SHOWN}
    metric = shown["metric"]
    sb = r.get("status_base") if isinstance(r.get("status_base"), str) else "missing"
    sh = r.get("status_head") if isinstance(r.get("status_head"), str) else "missing"
    vb, vh = r.value_base, r.value_head
    ratio = vh / vb if sb == "ok" and sh == "ok" and vb else float("nan")
    if sh == "missing" and not _selected(chosen, ids["benchmark"], ids["key"]):
        sh = "not selected"
    name = f"{ids['benchmark']}({_either(r, 'params')})"
    verdict = stats.status_verdict(sb, sh, bool(allow_gone and re.search(allow_gone, name)))
    if verdict == "":
        return None  # ran on neither side: nothing to say
    interval = None
    if verdict is not None:
        pass
    elif stats.method_changed(r.get("version_base"), r.get("version_head")):
        verdict = stats.METHOD_CHANGED  # two methods: their ratio says nothing of the framework
    elif _replicated(r):
        interval = _welch_ratio(r)  # several processes each side: an interval of the ratio
        verdict = stats.interval_verdict(*_worse_way(interval, metric), threshold)
    else:
        verdict = stats.interval_verdict(*_worse_way(_single_ratio(r, ratio), metric), threshold)
    if verdict == stats.METHOD_CHANGED:
        change = _method_text(r)
    else:
        change = _change_text(metric, vb, vh, sb, sh) + _basis(metric, r, interval)
    return {**ids, **shown, "base": vb, "head": vh, "ratio": ratio, "verdict": verdict, "change": change}


SHOWN = ["metric", "batch_size", "epochs", "setting"]  # what a verdict row says of its cell beside its identity


def _selected(chosen: dict | None, benchmark: str, key: str) -> bool:
    """Whether head's run asked for this benchmark and key (its metadata's `selected`: the benchmarks
    and, for a quick run, the keys its rounds time); True where the run did not say."""
    if not isinstance(chosen, dict):
        return True
    names, keys = chosen.get("benchmarks"), chosen.get("keys")
    if isinstance(names, list) and benchmark not in names:
        return False
    paired = benchmark in BENCHMARKS and BENCHMARKS[benchmark].paired
    return not (isinstance(keys, str) and paired and not re.fullmatch(keys, str(key)))


def _method_text(r) -> str:
    return f"benchmark version {r.get('version_base')} -> {r.get('version_head')}: not compared"


def _either(r, col: str):
    """A cell's descriptive column from head, else from base (a cell present on one side only)."""
    head = r.get(f"{col}_head")
    return head if pd.notna(head) else r.get(f"{col}_base")


def _higher_is_better(metric: str) -> bool:
    return metric in METRICS and METRICS[metric].higher_is_better


def _replicated(r) -> bool:
    return all(pd.notna(r.get(f"log_sd_{side}")) and (r.get(f"runs_{side}") or 0) >= 2 for side in ("base", "head"))


def _welch_ratio(r, confidence: float = 0.95) -> tuple[float, float]:
    """95% interval of head/base from each side's per-process values (Welch's t on the logs)."""
    vb, vh = r.log_sd_base**2 / r.runs_base, r.log_sd_head**2 / r.runs_head
    se = math.sqrt(vb + vh)
    if se == 0:
        d = math.exp(r.log_mean_head - r.log_mean_base)
        return d, d
    df = (vb + vh) ** 2 / (vb**2 / (r.runs_base - 1) + vh**2 / (r.runs_head - 1))
    half = stats.t_quantile(confidence, df) * se
    diff = r.log_mean_head - r.log_mean_base
    return math.exp(diff - half), math.exp(diff + half)


def _basis(metric: str, r, interval) -> str:
    """What stands behind a change: an interval over processes, one process each, or one seed."""
    if r.get("status_base") != "ok" or r.get("status_head") != "ok":
        return ""
    if metric in METRICS and METRICS[metric].accuracy:
        if interval is None:
            return " (1 seed each: no seed-to-seed spread to judge the change against)"
        lo, hi = interval
        return (
            f" (error rate 95% CI {lo - 1:+.1%} … {hi - 1:+.1%}, {int(r.runs_base)} vs {int(r.runs_head)} seeds: "
            "judged against the seed-to-seed spread)"
        )
    if interval is not None:
        lo, hi = interval
        if METRICS.get(metric) and METRICS[metric].display == "samples/s":
            lo, hi = 1 / hi, 1 / lo
            return (
                f" (95% CI {lo - 1:+.1%} … {hi - 1:+.1%}, {int(r.runs_base)} vs {int(r.runs_head)} "
                "processes, separate runs)"
            )
        return f" (95% CI {lo - 1:+.1%} … {hi - 1:+.1%}, {int(r.runs_base)} vs {int(r.runs_head)} processes, separate runs)"
    return " (one process each: asv's in-process interval only)"


def _worse_way(interval: tuple[float, float], metric: str) -> tuple[float, float]:
    """An interval of head/base turned so that above 1 is worse (a throughput-like value inverted)."""
    bounds = [v if not _higher_is_better(metric) else (1 / v if v else math.inf) for v in interval]
    return min(bounds), max(bounds)


def _single_ratio(r, ratio: float) -> tuple[float, float]:
    """head/base's interval from one process each side: from asv's in-process intervals where both are
    known (head's low over base's high to head's high over base's low), else the ratio alone (a point:
    the threshold decides). A single sample (quick mode) has no interval: asv stores (-inf, inf)."""
    values = (r.ci_low_base, r.ci_high_base, r.ci_low_head, r.ci_high_head)
    if any(v is None or pd.isna(v) or math.isinf(v) or v <= 0 for v in values):
        return ratio, ratio
    return r.ci_low_head / r.ci_high_base, r.ci_high_head / r.ci_low_base


def _change_text(metric: str, base: float, head: float, sb: str, sh: str) -> str:
    """The change as a person reads it: samples/s and accuracy up is good, the rest down."""
    if sb != "ok" or sh != "ok" or metric not in METRICS or not base or not head:
        return ""
    shown = METRICS[metric].display
    if shown == "samples/s":
        return f"{base / head - 1:+.1%} samples/s"
    if shown == "accuracy":
        return f"{(base - head) * 100:+.2f} accuracy points"
    return f"{head / base - 1:+.1%} {METRICS[metric].label}"


def render_regressions(result: pd.DataFrame, machine: str, base: str, head: str, threshold: float) -> str:
    counts = result.verdict.value_counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in stats.VERDICTS if counts.get(v, 0))
    lines = [
        f"# Regression report: {head[:8]} vs {base[:8]} on {md_text(machine)}",
        "",
        f"Two separate `run`s compared, not paired rounds: on a shared box separate runs drift by 10-30%, "
        "so for a verdict CI can act on use `seqmnist-bench compare BASE HEAD`. Where each side has several "
        f"processes (replicated throughput), regression / improvement means the 95% interval of the ratio "
        f"lies wholly beyond {threshold:.0%}, the rule `compare` uses; elsewhere (one process each) the same "
        "rule is applied to the interval asv's in-process 99% intervals give the ratio (the ratio alone where "
        "asv stored none). Stored values are asv's "
        "(seconds, bytes, error rate: lower is better); `ratio` is head/base of those, `change` reads them "
        "the way people do and says what stands behind it.",
        "",
        f"**{summary or 'no comparable results'}**",
        "",
    ]
    if not result.empty:
        shown = result.assign(
            params=result.apply(label, axis=1),
            base=result["base"].map(_num),
            head=result["head"].map(_num),
            ratio=result.ratio.map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        )[["verdict", "benchmark", "params", "base", "head", "ratio", "change"]]
        lines.append(md_table(shown, index=False))
    return "\n".join(lines) + "\n"


def _num(v) -> str:
    return "" if v is None or pd.isna(v) else f"{v:.4g}"
