"""`seqmnist-bench noise`: an A/A compare of the current commit against itself, to learn how noisy
this machine is, what `compare` can detect here, and how many rounds a target needs.

The figures are stored in results/meta/<machine>/noise.json with the host's fingerprint id;
`compare` reads them to choose its minimum number of rounds on the same host.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.core.errors import RunError
from bench.measure import estimate, stats
from bench.store import layout, reruns, rounds_file
from bench.tasks.compare import CompareOptions, Comparison, measure, store_dir
from bench.tasks.compare import save as save_comparison

TARGETS = (0.10, 0.05)


def options(opts: CompareOptions, rounds: int) -> CompareOptions:
    """HEAD against HEAD in `rounds` rounds, no early stop."""
    return replace(
        opts, base="HEAD", head="HEAD", allow_same=True, min_rounds=rounds, max_rounds=rounds, budget=math.inf
    )


@dataclass(frozen=True)
class Check:
    """A stored A/A check: the per-benchmark noise, each framework's carry-over, the wall times, and
    where it was stored (with every round, for a second look, under results/compare/)."""

    table: pd.DataFrame
    carried: dict[str, pd.DataFrame]
    comparison: Comparison
    path: Path


def check(opts: CompareOptions, rounds: int, machine: str, fingerprint: dict) -> Check:
    """Measure HEAD against HEAD in `rounds` rounds and store what it says (the caller holds the lock)."""
    table, walls, comparison = run(opts, rounds)
    carried = carryover(comparison.rounds)
    stored = save(opts.root, machine, table, walls, opts, fingerprint, carried)
    save_comparison(
        comparison, store_dir(opts.root, machine, comparison.base, comparison.head), machine, opts, fingerprint
    )
    return Check(table, carried, comparison, stored)


def bound_rounds(opts: CompareOptions, rounds: int | None, min_rounds: int | None, machine: str, fp_id) -> str | None:
    """compare's rule for its rounds, set on `opts`: exactly `rounds` (no early stop), at least
    `min_rounds`, or else what this host's stored noise check says a 10% change needs (at least
    stats.MIN_ROUNDS); returns the line that says why, for the last."""
    if rounds:
        opts.min_rounds = opts.max_rounds = rounds
        opts.budget = math.inf
        return None
    if min_rounds:
        opts.min_rounds = min(min_rounds, opts.max_rounds)
        return None
    need, why = min_rounds_for(opts.root, machine, fp_id, opts.frameworks, 0.10, opts.threshold)
    if need and need > 0:
        opts.min_rounds = max(stats.MIN_ROUNDS, min(need, opts.max_rounds))
    return f"min rounds {opts.min_rounds}: {why}"


def run(opts: CompareOptions, rounds: int):
    """Measure HEAD against HEAD in `rounds` paired rounds (no early stop): (per-benchmark noise,
    wall seconds per framework, the Comparison with every round)."""
    c = measure(options(opts, rounds))
    return summarize(c.verdicts, opts), c.wall_seconds, c


def summarize(v: pd.DataFrame, opts: CompareOptions) -> pd.DataFrame:
    """Per-benchmark noise, detectable change and rounds needed, from A/A verdict rows."""
    table = v[v.sd.notna()][
        ["framework", "benchmark", "params", "rounds", "sd", "ratio", "low", "high", "verdict"]
    ].copy()
    table["detectable"] = [
        stats.detectable_change(sd, n, opts.threshold, opts.confidence) for sd, n in zip(table.sd, table.rounds)
    ]
    for target in TARGETS:
        table[f"rounds_for_{target:.0%}"] = [
            stats.rounds_needed(sd, target, opts.threshold, opts.confidence) for sd in table.sd
        ]
    return table


def carryover(rounds: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per framework:device, the carry-over between base's and head's processes (estimate.carryover):
    in an A/A check any beyond 1% is the alternation disturbing what it measures."""
    out = {}
    for (framework, device), sub in rounds.groupby(["framework", "device"], sort=False):
        out[f"{framework}:{device}"] = estimate.carryover(sub)
    return out


def path(root: Path, machine: str) -> Path:
    return layout.noise_file(root, machine)


def save(
    root: Path,
    machine: str,
    table: pd.DataFrame,
    walls: dict,
    opts: CompareOptions,
    fingerprint: dict,
    carried: dict[str, pd.DataFrame] | None = None,
) -> Path:
    target = path(root, machine)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": machine,
        "fingerprint_id": fingerprint.get("id"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "threshold": opts.threshold,
        "confidence": opts.confidence,
        "alternations": opts.alternations,
        "sample_time": opts.sample_time,
        "wall_seconds": walls,
        "benchmarks": json.loads(table.to_json(orient="records")),
        "carryover": {k: json.loads(v.to_json(orient="records")) for k, v in (carried or {}).items()},
    }
    files.write_json(target, data)
    return target


def min_rounds_for(
    root: Path, machine: str, fingerprint_id: str | None, frameworks, target: float, threshold: float
) -> tuple[int | None, str]:
    """Rounds the stored noise says `target` needs at `threshold` (the worst benchmark of the
    chosen frameworks), or None with why the noise file does not apply."""
    p = path(root, machine)
    if not p.is_file():
        return None, f"no noise check stored for {machine!r} (run `seqmnist-bench noise`)"
    data = files.read_json(p)
    if data.get("fingerprint_id") != fingerprint_id:
        return None, "the stored noise check was taken on another host (fingerprint differs)"
    sds = [b["sd"] for b in data.get("benchmarks", []) if b.get("framework") in frameworks and b.get("sd")]
    if not sds:
        return None, "the stored noise check covers none of these frameworks"
    need = max(stats.rounds_needed(sd, target, threshold) for sd in sds)
    return need, f"noise check of {data.get('date', '?')}: worst paired sd {max(sds):.1%}"


def render(table: pd.DataFrame, opts: CompareOptions, rounds: int) -> str:
    shown = table.assign(
        benchmark=table.benchmark.str.replace(r"^throughput\.|\.time_.*$", "", regex=True),
        sd=table.sd.map("{:.1%}".format),
        aa=[f"{r - 1:+.1%} ({lo - 1:+.1%} … {hi - 1:+.1%})" for r, lo, hi in zip(table.ratio, table.low, table.high)],
        detectable=table.detectable.map("{:.1%}".format),
    )
    cols = ["benchmark", "params", "sd", "aa", "verdict", "detectable"] + [
        c for c in table if c.startswith("rounds_for")
    ]
    return (
        f"A/A noise, {rounds} paired rounds, threshold {opts.threshold:.0%}, {opts.confidence:.0%} intervals.\n"
        "sd: robust sd (1.4826 MAD) of one round's head/base log-ratio; aa: the A/A change and its interval (should hold 0); "
        f"detectable: the smallest change flagged in {rounds} rounds with 95% power; "
        "rounds_for_X: rounds for a true X change to be flagged with 95% power (-1: never at this threshold).\n\n"
        + shown[cols].to_markdown(index=False, disable_numparse=True)
    )


def load_runs(names: list[str]) -> list[pd.DataFrame]:
    """The rounds files of separate runs for `noise --between`: at least two, each readable, none the
    same run as another by content (the same rounds and samples, however the file was copied: a run twice is
    no second run); RunError saying which otherwise."""
    if len(names) < 2:
        raise RunError("--between needs the rounds files of at least two separate runs")
    runs, seen = [], dict[str, str]()
    for name in names:
        path = Path(name)
        if not path.is_file():
            raise RunError(f"--between {name}: no such rounds file")
        try:
            frame = rounds_file.load(path)
        except (ValueError, KeyError) as exc:
            raise RunError(f"--between {name}: not a rounds file ({exc})") from None
        content = _content(frame)
        if content in seen:
            raise RunError(f"--between: {name} is {seen[content]} again; the term needs separate runs")
        seen[content] = name
        runs.append(frame)
    return runs


def _content(frame: pd.DataFrame) -> str:
    """What makes a run that run: its arms' samples per benchmark, key and round, as parsed (not its bytes)."""
    cols = [c for c in ("arm", "benchmark", "key", "round", "samples", "value") if c in frame]
    rows = frame[cols].astype(str).apply(lambda c: c.str.strip())
    return rows.sort_values(cols).to_csv(index=False)


def term(runs: list[pd.DataFrame], names: list[str]) -> dict:
    """The run-to-run term of the ratios to the reference over separate runs (estimate.between_runs);
    RunError when the runs hold no reference or share no ratio."""
    reference = next((a for a in runs[0].arm.unique() if a.startswith(f"{estimate.REFERENCE}:")), None)
    if reference is None:
        raise RunError(f"--between: {names[0]} has no {estimate.REFERENCE} rounds to take ratios to")
    found = estimate.between_runs(runs, reference)
    if not found["pairs"]:
        raise RunError("--between: the runs share no ratio to compare")
    return found


def save_term(found: dict, names: list[str], root: Path, machine: str, fingerprint_id) -> Path:
    """The term stored for `machine` with the files it came from (relative to the checkout)."""
    named = [_shown(Path(n), root) for n in names]  # never a local absolute path in what is published
    return reruns.save(layout.results_dir(root), machine, found, named, fingerprint_id)


def _shown(path, root) -> str:
    """A rounds file as the results name it: relative to the checkout, else by its last folder and name."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return f"{path.parent.name}/{path.name}"
