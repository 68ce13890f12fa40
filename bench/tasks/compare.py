"""`seqmnist-bench compare BASE HEAD`: paired, interleaved rounds of both commits, then verdicts.

Each revision is checked out in its own git worktree. A round runs one worker process per side
(bench/measure/worker.py via bench/measure/rounds.py: asv_runner times that revision's asv benchmarks), in random order, back to
back, so machine drift hits both sides alike; the process is the unit of replication. After
`min_rounds`, rounds stop once every benchmark's interval clears the threshold (or the time budget
is spent). Verdicts come from the per-round head/base log-ratios (bench/measure/stats.py). Everything is
written to the local working store results/compare/, never to tracked files.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core import files, repo, scratch
from bench.core.errors import RunError
from bench.core.repo import find_root, git, git_try
from bench.core.text import md_table, md_text
from bench.measure import estimate, rounds, stats
from bench.measure.forks import ForkServers
from bench.store import layout, rounds_file
from bench.store.asv_results import add_results, save_results
from bench.store.record import IDENTITY
from bench.workload.benchmarks import BENCHMARKS
from impls import DEVICES, FRAMEWORKS

DEFAULT_BENCH = r"^throughput\.(TrainStep|Predict)\."


@dataclass
class CompareOptions:
    base: str
    head: str
    frameworks: tuple[str, ...] = FRAMEWORKS
    devices: tuple[str, ...] = DEVICES
    bench: str = DEFAULT_BENCH  # asv time benchmarks (time_/timeraw_) matched on their full name
    threshold: float = stats.THRESHOLD  # smallest change a verdict calls: the interval must clear it
    confidence: float = 0.95
    budget: float = 300.0  # seconds of rounds per framework and device
    min_rounds: int = stats.MIN_ROUNDS
    max_rounds: int = 60
    sample_time: float = 0.15  # each timing sample lasts at least this long
    alternations: int = 4  # base/head sample pairs per benchmark per round (ABBA order); their mean
    # is the round's value
    threads: int | None = None
    seed: int = 0  # the random side order of each round
    allow_same: bool = False  # A/A: both sides the same commit (the noise check)
    allow_gone: str | None = None  # regex on 'benchmark(params)': removals at head that are intended
    keys: str | None = None  # regex the parameters other than framework and device must match (bisect: one)
    fresh_processes: bool = False  # every worker a new interpreter (no fork server: bench/measure/forks.py)
    root: Path = field(default_factory=Path.cwd)
    quiet: bool = False


@dataclass
class Comparison:
    """What a compare measured: every round's values, and the verdict per benchmark."""

    base: str
    head: str
    rounds: pd.DataFrame  # bench.store.record.Measurement rows, arm "base" or "head"
    verdicts: pd.DataFrame
    wall_seconds: dict[str, float]  # per framework:device
    skipped: dict[str, str]
    efficiency: dict[str, float] = field(default_factory=dict)  # per framework:device: share in timed samples


def resolve(root: Path, rev: str) -> str:
    commit = repo.commit_of(root, rev)
    if not commit:
        raise RunError(f"unknown revision {rev!r}")
    return commit


def revisions(opts: CompareOptions) -> tuple[str, str]:
    """(base, head) as commit hashes; RunError for an unknown revision, or the same commit twice where
    that is not asked for."""
    root = find_root(opts.root)
    base, head = resolve(root, opts.base), resolve(root, opts.head)
    if base == head and not opts.allow_same:
        raise RunError(
            f"{opts.base} and {opts.head} are the same commit {base[:8]} "
            "(for an A/A noise check of this machine, use `seqmnist-bench noise`)"
        )
    return base, head


def _log(opts: CompareOptions, message: str) -> None:
    if not opts.quiet:
        print(message, file=sys.stderr, flush=True)


def worker_env(opts: CompareOptions) -> dict:
    return repo.worker_env(opts.root, opts.threads)


# a verdict row: the record's identity, and its parameters as asv and people name them
KEYS = [*IDENTITY, "param", "params"]


def _status(seen: set[str]) -> str:
    """One side's status over its rounds: failed if any round failed, ok if any ran, else skipped or missing."""
    if "failed" in seen:
        return "failed"
    if "ok" in seen:
        return "ok"
    return "skipped" if seen else "missing"


def _version(group: pd.DataFrame, side: str) -> str | None:
    """The benchmark version one side's worker reported (None where it did not say)."""
    if "version" not in group:
        return None
    found = group[(group.arm == side) & (group.status == "ok")].version.dropna()
    return str(found.iloc[0]) if len(found) else None


def estimates(rounds: pd.DataFrame, threshold: float, confidence: float, allow_gone: str | None = None) -> pd.DataFrame:
    """One verdict row per benchmark x params from the paired rounds. A benchmark that ran at base and
    does not run at head, for any reason (an import error makes the framework "unavailable", a skip
    base did not have), is a failure at head unless `allow_gone` (a regex on 'benchmark(params)')
    names it as an intended removal."""

    out = []
    for key, group in rounds.groupby(KEYS, sort=False):
        wide = group.pivot_table(index="round", columns="arm", values="value", aggfunc="first")
        statuses = {side: set(group[group.arm == side].status) for side in ("base", "head")}
        row = dict(zip(KEYS, key))
        allowed = bool(allow_gone and re.search(allow_gone, f"{row['benchmark']}({row['params']})"))
        said = stats.status_verdict(_status(statuses["base"]), _status(statuses["head"]), allowed)
        if said == "":
            continue  # ran on neither side: nothing to say
        if said is not None:
            side = "base" if said == "base failed" else "head"
            reasons = group[(group.arm == side) & group.reason.astype(str).str.strip().ne("")].reason
            why = str(reasons.iloc[-1]).strip() if len(reasons) else f"not measured at {side}"
            if said == "gone":
                why = f"removed on purpose (--allow-gone): {why.splitlines()[-1]}"
            elif said == "failed" and "failed" not in statuses["head"]:
                why = f"ran at base, does not run at head: {why.splitlines()[-1]}"
            row.update(verdict=said, reason=why if said != "new" else "")
        elif stats.method_changed(*(_version(group, side) for side in ("base", "head"))):
            row.update(
                verdict=stats.METHOD_CHANGED,
                reason="benchmark version {} -> {}: not compared".format(
                    *(_version(group, side) for side in ("base", "head"))
                ),
            )
        else:
            both = wide.dropna(subset=["base", "head"])
            ok = estimate.ok_rows(group)
            logs = estimate.round_log_ratios(
                estimate.by_round(ok[ok.arm == "head"]), estimate.by_round(ok[ok.arm == "base"])
            )
            p = stats.paired_logs(logs.to_numpy(), confidence)
            row.update(
                base=float(both["base"].median()),
                head=float(both["head"].median()),
                ratio=p.ratio,
                low=p.low,
                high=p.high,
                rounds=p.rounds,
                sd=p.sd,
                verdict=stats.verdict(p, threshold),
            )
        out.append(row)
    cols = KEYS + ["base", "head", "ratio", "low", "high", "rounds", "sd", "verdict", "reason"]
    frame = pd.DataFrame(out, columns=cols)
    frame["reason"] = frame["reason"].astype(object).fillna("")
    frame["change"] = frame.apply(lambda r: change_text(r, confidence), axis=1)
    return frame


def exit_status(verdicts: pd.DataFrame) -> int:
    """The gate's rule: 1 when any benchmark regressed or fails at head, else 0."""
    return 1 if stats.gate_fails(verdicts.get("verdict", ())) else 0


def change_text(row, confidence: float) -> str:
    """'-14.6% samples/s (95% CI -17.0 ... -12.1%), 12 paired rounds' for a time benchmark."""
    if pd.isna(row.get("ratio")):
        return ""
    rate = 1 / row.ratio - 1  # time -> throughput: slower is fewer samples/s
    unit = "samples/s" if _is_throughput(row.benchmark) else "speed (1/time)"
    if pd.notna(row.low) and row.low > 0 and math.isfinite(row.high):
        ci = f"({confidence:.0%} CI {1 / row.high - 1:+.1%} … {1 / row.low - 1:+.1%})"
    else:
        ci = f"(too few rounds for a {confidence:.0%} interval)"
    return f"{rate:+.1%} {unit} {ci}, {int(row.rounds)} paired rounds"


def outcome(change: str, reason: str) -> str:
    """What a verdict line shows: the change, or for a failure the last line of its error."""
    return change or next(iter(reason.strip().splitlines()[-1:]), "")


def _is_throughput(benchmark: str) -> bool:
    """A benchmark people read as samples/s (benchmarks.py's table says so)."""
    metric = BENCHMARKS.get(benchmark)
    return bool(metric and metric.display == "samples/s")


def measure(opts: CompareOptions) -> Comparison:
    """Run paired rounds of both revisions per framework and device (bench.measure.rounds); the verdicts."""
    if opts.min_rounds < 1 or opts.max_rounds < opts.min_rounds:
        raise RunError(f"rounds: need 1 <= min ({opts.min_rounds}) <= max ({opts.max_rounds})")
    root = find_root(opts.root)
    if git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"):
        _log(opts, "note: uncommitted changes are not measured: compare checks out the two commits")
    base, head = revisions(opts)
    for stale in scratch.sweep():  # a compare killed (SIGKILL) before it could remove its worktrees
        _log(opts, f"removed the worktrees a killed compare left in {stale}")
    git(root, "worktree", "prune")
    tmp = scratch.make("compare")
    trees: dict[str, Path] = {}
    try:
        for side, commit in (("base", base), ("head", head)):
            trees[side] = tmp / side
            git(root, "worktree", "add", "--detach", str(trees[side]), commit)
            if not (trees[side] / "bench" / "suites").is_dir():
                raise RunError(f"{commit[:8]} has no bench/suites: it predates the benchmark suite")
        frames, walls, skipped, efficiency = [], {}, {}, {}
        env = worker_env(opts)
        for n, framework in enumerate(opts.frameworks):
            for device in opts.devices:
                label = f"{framework}:{device}"
                part = _rounds(opts, trees, framework, device, env, seed=opts.seed + 1000 * n, label=label)
                if part.interrupted:  # one Ctrl-C ends the whole comparison (exit 130), not one framework's
                    _log(opts, f"interrupted during {label}: nothing compared or saved")
                    raise KeyboardInterrupt
                walls[label], efficiency[label] = part.wall_seconds, part.efficiency
                frame = part.frame
                if frame.empty or not (frame.status == "failed").any() and not (frame.status == "ok").any():
                    skipped[label] = part.stopped.removeprefix("nothing to time after round 1: ")
                    _log(opts, f"skip {label}: {skipped[label]}")
                    continue
                base_broken = frame[(frame.arm == "base") & (frame.benchmark == "(worker)")]
                if not base_broken.empty and not ((frame.arm == "base") & (frame.status == "ok")).any():
                    raise RunError(f"{label}: the base revision's worker failed: {base_broken.reason.iloc[0]}")
                frames.append(frame)
        if not frames:
            raise RunError("nothing to compare: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        frame = pd.concat(frames, ignore_index=True)
        return Comparison(
            base,
            head,
            frame,
            estimates(frame, opts.threshold, opts.confidence, opts.allow_gone),
            walls,
            skipped,
            efficiency,
        )
    finally:
        for tree in trees.values():
            git_try(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tmp, ignore_errors=True)
        git_try(root, "worktree", "prune")


def _rounds(
    opts: CompareOptions, trees: dict[str, Path], framework: str, device: str, env: dict, seed: int, label: str
) -> rounds.Rounds:
    """Paired rounds of base and head for one framework and device until every benchmark is decided,
    the budget is spent, or max_rounds."""
    plan = rounds.Plan(
        bench=opts.bench,
        sample_time=opts.sample_time,
        alternations=opts.alternations,
        min_rounds=opts.min_rounds,
        max_rounds=opts.max_rounds,
        budget=opts.budget,
        seed=seed,
        same_number=True,
        min_arms=2,
        keys=opts.keys,
    )
    arms = [rounds.Arm(side, trees[side], framework, device) for side in ("base", "head")]

    def decided(frame: pd.DataFrame, round_no: int) -> str | None:
        verdicts = estimates(frame, opts.threshold, opts.confidence, opts.allow_gone)
        open_ = verdicts[verdicts.verdict == "inconclusive"]
        _log(opts, f"{label} round {round_no}: {len(verdicts) - len(open_)}/{len(verdicts)} decided")
        return "every benchmark decided" if open_.empty else None

    def log(message: str) -> None:
        _log(opts, f"{label} {message}")

    with ForkServers(log=log, fresh=opts.fresh_processes) as forks:
        return rounds.run_rounds(arms, plan, env, check=decided, log=log, start=forks)


# ---------------------------------------------------------------- the working store


def store_dir(root: Path, machine: str, base: str, head: str) -> Path:
    """results/compare/<machine>/<base8>-<head8>/: ignored by git, replaced by the next same compare."""
    return layout.compare_dir(root, machine, base, head)


def save(c: Comparison, out: Path, machine: str, opts: CompareOptions, fingerprint: dict | None) -> list[Path]:
    """Rounds, verdicts, the Markdown report, run metadata and asv-format results of both sides."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "rounds.csv", out / "verdicts.csv", out / "regressions.md", out / "meta.json"]
    rounds_file.write(c.rounds, paths[0])  # the one writer of the rounds format (noise --between reads it back)
    files.write_text(paths[1], c.verdicts.to_csv(index=False))
    files.write_text(paths[2], render(c, machine, opts))
    meta = {
        "machine": machine,
        "base": c.base,
        "head": c.head,
        "fingerprint": fingerprint,
        "wall_seconds": c.wall_seconds,
        "skipped": c.skipped,
        "options": {k: v for k, v in vars(opts).items() if k not in ("root",)},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    files.write_json(paths[3], meta, default=str)
    paths += save_asv(c, out / "asv", machine)
    return paths


def save_asv(c: Comparison, results_dir: Path, machine: str) -> list[Path]:
    """Both sides as asv results (one sample per round: the process is the unit of replication),
    so `asv compare`/`asv publish` and the report can read them."""
    from asv.results import Results

    if c.rounds.empty:
        return []
    rows = c.rounds[c.rounds.benchmark != "(worker)"]
    written = []
    for side, commit in (("base", c.base), ("head", c.head)):
        res = Results(
            {"machine": machine}, {}, commit, int(time.time() * 1000), sys.version.split()[0], "paired-rounds", {}
        )
        add_results(res, rows[rows.arm == side])
        written.append(save_results(res, results_dir))
    files.write_json(results_dir / machine / "machine.json", {"machine": machine, "version": 1}, indent=None)
    return written


def wall_text(c: Comparison) -> str:
    """Each framework's wall time and its share in timed samples: 'torch:cpu 310 s (68% in timed samples)'."""
    return ", ".join(
        f"{k} {s:.0f} s" + (f" ({c.efficiency[k]:.0%} in timed samples)" if k in c.efficiency else "")
        for k, s in c.wall_seconds.items()
    )


def render(c: Comparison, machine: str, opts: CompareOptions) -> str:
    """The regression report in Markdown: the rule, the counts, one line per benchmark."""
    v = c.verdicts
    counts = v.verdict.value_counts()
    summary = ", ".join(f"{counts[k]} {k}" for k in stats.VERDICTS if counts.get(k, 0))
    walls = wall_text(c)
    lines = [
        f"# Regression report: {c.head[:8]} vs {c.base[:8]} on {md_text(machine)}",
        "",
        f"Paired rounds: each round starts new base and head processes ({_processes(opts)}) and times every benchmark in "
        f"{opts.alternations} alternating base/head samples of >= {opts.sample_time:g} s; a round's head/base "
        f"log-ratio is the median over its back-to-back sample pairs. The change is the "
        f"Hodges-Lehmann estimate of the per-round log-ratios with its {opts.confidence:.0%} "
        f"Wilcoxon signed-rank interval. **regression** / **improvement**: the whole interval lies beyond "
        f"{opts.threshold:.0%}; **unchanged**: it lies within +-{opts.threshold:.0%}; **inconclusive**: it "
        f"straddles {opts.threshold:.0%} (more rounds would decide; not a failure).",
        "",
        f"**{summary or 'no comparable results'}** · wall time {walls or '-'}",
        "",
    ]
    if not v.empty:
        rank = {k: i for i, k in enumerate(stats.VERDICTS)}
        shown = v.assign(_r=v.verdict.map(rank)).sort_values(["_r", "framework", "benchmark", "param"])
        table = shown.assign(
            base=shown["base"].map(_rate),
            head=shown["head"].map(_rate),
            change=[outcome(c, r) for c, r in zip(shown.change, shown.reason)],
        )[["verdict", "benchmark", "params", "base", "head", "change"]]
        lines.append(
            md_table(table.rename(columns={"base": "base (per call)", "head": "head (per call)"}), index=False)
        )
    for label, reason in c.skipped.items():
        lines.append(f"\nskipped {md_text(label)}: {md_text(reason)}")
    return "\n".join(lines) + "\n"


def _processes(opts: CompareOptions) -> str:
    return (
        "fresh interpreters"
        if opts.fresh_processes
        else "forked from a fork server per revision where the framework is shown to measure the same forked"
    )


def _rate(seconds) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    return f"{seconds * 1e3:.3g} ms"
