"""`seqmnist-bench compare BASE HEAD`: paired, interleaved rounds of both commits, then verdicts.

Each revision is checked out in its own git worktree. A round runs one worker process per side
(bench/worker.py: asv_runner times that revision's asv benchmarks), in random order, back to
back, so machine drift hits both sides alike; the process is the unit of replication. After
`min_rounds`, rounds stop once every benchmark's interval clears the threshold (or the time budget
is spent). Verdicts come from the per-round head/base log-ratios (bench/stats.py). Everything is
written to the local working store results/compare/, never to tracked files.
"""
from __future__ import annotations

import json
import math
import random
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from impls import DEVICES, FRAMEWORKS

from . import stats
from .runner import RunError, find_root, git

DEFAULT_BENCH = r"^throughput\.(TrainStep|Predict)\."
WORKER = Path(__file__).with_name("worker.py")


@dataclass
class CompareOptions:
    base: str
    head: str
    frameworks: tuple[str, ...] = FRAMEWORKS
    devices: tuple[str, ...] = DEVICES
    bench: str = DEFAULT_BENCH  # asv time benchmarks (time_/timeraw_) matched on their full name
    threshold: float = 0.03  # smallest change a verdict calls: the interval must clear it
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
    root: Path = field(default_factory=Path.cwd)
    quiet: bool = False


@dataclass
class Comparison:
    """What a compare measured: every round's values, and the verdict per benchmark."""

    base: str
    head: str
    rounds: pd.DataFrame  # framework, device, benchmark, param, params, round, side, first, value, ...
    verdicts: pd.DataFrame
    wall_seconds: dict[str, float]  # per framework:device
    skipped: dict[str, str]


def resolve(root: Path, rev: str) -> str:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except RunError:
        raise RunError(f"unknown revision {rev!r}") from None


def _log(opts: CompareOptions, message: str) -> None:
    if not opts.quiet:
        print(message, file=sys.stderr, flush=True)


class Worker:
    """A worker process (bench/worker.py) for one revision, framework and device."""

    def __init__(self, tree: Path, framework: str, device: str, bench: str, env: dict):
        self.log = tempfile.TemporaryFile(mode="w+")
        cmd = [sys.executable, str(WORKER), "--tree", str(tree), "--bench", bench,
               "--framework", framework, "--device", device]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, env=env)

    def send(self, request: dict) -> None:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 900) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            self.proc.wait()
            self.log.seek(0)
            tail = "\n".join(self.log.read().strip().splitlines()[-8:])
            why = "timed out" if not ready else f"exited {self.proc.returncode}"
            raise WorkerError(f"worker {why}:\n{tail}")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def ask(self, request: dict) -> dict:
        self.send(request)
        return self.receive()

    def close(self, interrupted: bool = False) -> None:
        """Ask the worker to quit (kill it at once when the caller was interrupted)."""
        if interrupted and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.poll() is None:
            try:
                self.send({"op": "quit"})
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class WorkerError(Exception):
    """A worker process failed as a whole (import error, crash, timeout)."""


def worker_env(opts: CompareOptions) -> dict:
    import os

    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .runner import others_on_path

    # the worker puts the measured tree first itself; the checkout must not shadow it (plugins may stay)
    env["PYTHONPATH"] = os.pathsep.join(others_on_path(env, opts.root))
    if opts.threads:
        env["SEQMNIST_THREADS"] = str(opts.threads)
    return env


KEYS = ["framework", "device", "benchmark", "param", "params"]


def estimates(rounds: pd.DataFrame, threshold: float, confidence: float) -> pd.DataFrame:
    """One verdict row per benchmark x params from the paired rounds."""
    out = []
    for key, group in rounds.groupby(KEYS, sort=False):
        wide = group.pivot_table(index="round", columns="side", values="value", aggfunc="first")
        statuses = {side: set(group[group.side == side].status) for side in ("base", "head")}
        row = dict(zip(KEYS, key))
        base_ok, head_ok = "ok" in statuses["base"], "ok" in statuses["head"]
        if "failed" in statuses["head"]:
            reason = group[(group.side == "head") & (group.status == "failed")].reason.iloc[-1]
            row.update(verdict="failed", reason=reason)
        elif "failed" in statuses["base"]:
            reason = group[(group.side == "base") & (group.status == "failed")].reason.iloc[-1]
            row.update(verdict="base failed", reason=reason)
        elif not base_ok and not head_ok:
            continue  # skipped on both sides: nothing to say
        elif not base_ok:
            row.update(verdict="new")
        elif not head_ok:
            row.update(verdict="gone")
        else:
            both = wide.dropna(subset=["base", "head"])
            p = stats.paired_logs(round_log_ratios(group, both), confidence)
            row.update(base=float(both["base"].median()), head=float(both["head"].median()), ratio=p.ratio,
                       low=p.low, high=p.high, rounds=p.rounds, sd=p.sd, verdict=stats.verdict(p, threshold))
        out.append(row)
    cols = KEYS + ["base", "head", "ratio", "low", "high", "rounds", "sd", "verdict", "reason"]
    frame = pd.DataFrame(out, columns=cols)
    frame["reason"] = frame["reason"].astype(object).fillna("")
    frame["change"] = frame.apply(lambda r: change_text(r, confidence), axis=1)
    return frame


def round_log_ratios(group: pd.DataFrame, both: pd.DataFrame) -> list[float]:
    """Each paired round's log(head/base): from its samples, pair by pair in the order they were
    taken (stats.round_log_ratio), where the round kept them; else from the two sides' means."""
    kept = {}
    if "samples" in group:
        ok = group[(group.status == "ok") & group.samples.fillna("").astype(str).str.strip().ne("")]
        kept = {(r, side): [float(v) for v in str(text).split()]
                for r, side, text in zip(ok["round"], ok.side, ok.samples)}
    logs = []
    for r, base, head in zip(both.index, both["base"], both["head"]):
        if (r, "base") in kept and (r, "head") in kept:
            logs.append(stats.round_log_ratio(kept[r, "base"], kept[r, "head"]))
        else:
            logs.append(math.log(head / base) if base > 0 and head > 0 else math.nan)
    return logs


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
    return benchmark.rsplit(".", 1)[-1] in {"time_train_step", "time_predict", "time_minimal_train_step"}


def measure(opts: CompareOptions) -> Comparison:
    """Run paired rounds of both revisions per framework and device; the verdicts."""
    if opts.min_rounds < 1 or opts.max_rounds < opts.min_rounds:
        raise RunError(f"rounds: need 1 <= min ({opts.min_rounds}) <= max ({opts.max_rounds})")
    root = find_root(opts.root)
    if git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"):
        _log(opts, "note: uncommitted changes are not measured: compare checks out the two commits")
    base, head = resolve(root, opts.base), resolve(root, opts.head)
    if base == head and not opts.allow_same:
        raise RunError(f"{opts.base} and {opts.head} are the same commit {base[:8]} "
                       "(for an A/A noise check of this machine, use `seqmnist-bench noise`)")
    tmp = Path(tempfile.mkdtemp(prefix="seqmnist-compare-"))
    trees: dict[str, Path] = {}
    try:
        for side, commit in (("base", base), ("head", head)):
            trees[side] = tmp / side
            git(root, "worktree", "add", "--detach", str(trees[side]), commit)
            if not (trees[side] / "bench" / "suites").is_dir():
                raise RunError(f"{commit[:8]} has no bench/suites: it predates the benchmark suite")
        rows, walls, skipped = [], {}, {}
        env = worker_env(opts)
        rng = random.Random(opts.seed)
        for framework in opts.frameworks:
            for device in opts.devices:
                label = f"{framework}:{device}"
                started = time.monotonic()
                part, reason = _rounds(opts, trees, framework, device, env, rng, label)
                walls[label] = time.monotonic() - started
                rows += part
                if reason:
                    skipped[label] = reason
                    _log(opts, f"skip {label}: {reason}")
        if not rows:
            raise RunError("nothing to compare: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        frame = pd.DataFrame(rows)
        return Comparison(base, head, frame, estimates(frame, opts.threshold, opts.confidence), walls, skipped)
    finally:
        for tree in trees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)


def one_round(opts: CompareOptions, trees: dict[str, Path], framework: str, device: str, env: dict,
              round_no: int, rng: random.Random) -> list[dict]:
    """Fresh base and head workers stage every benchmark, then each benchmark is timed in
    `alternations` base/head sample pairs, ABBA order, the same `number` of calls on both sides."""
    first = "base" if rng.random() < 0.5 else "head"
    second = "head" if first == "base" else "base"
    workers = {side: Worker(trees[side], framework, device, opts.bench, env) for side in (first, second)}
    rows = []
    try:
        jobs = {}
        for side, worker in workers.items():
            worker.send({"op": "setup"})
        for side, worker in workers.items():
            try:
                jobs[side] = worker.receive()["jobs"]
            except WorkerError as exc:
                if side == "base":
                    raise RunError(f"{framework}:{device}: the base revision's worker failed: {exc}") from None
                jobs[side] = None
                rows.append(_row(framework, device, {"name": "(worker)", "param": 0, "params": []}, round_no,
                                 "head", status="failed", reason=str(exc)))
        if jobs["head"] is None:
            return rows
        head_jobs = {(j["name"], j["param"]): j for j in jobs["head"]}
        pairs = [(b, head_jobs.pop((b["name"], b["param"]), None)) for b in jobs["base"]]
        pairs += [(None, h) for h in head_jobs.values()]
        rng.shuffle(pairs)
        for b, h in pairs:
            rows += _time_pair(workers, b, h, opts, framework, device, round_no, first)
    except BaseException:
        for worker in workers.values():
            worker.close(interrupted=True)
        raise
    finally:
        for worker in workers.values():
            worker.close()
    return rows


def _row(framework, device, job, round_no, side, **values) -> dict:
    return {"framework": framework, "device": device, "benchmark": job["name"], "param": job["param"],
            "params": ", ".join(p.strip("'") for p in job["params"]), "round": round_no, "side": side,
            "value": float("nan"), "samples": "", "number": None, "status": "ok", "reason": "",
            "version": job.get("version"), "all_params": json.dumps(job.get("all_params", [])), **values}


def _time_pair(workers, b, h, opts, framework, device, round_no, first) -> list[dict]:
    sides = {"base": b, "head": h}
    ready = {side: job for side, job in sides.items() if job is not None and job["status"] == "ok"}
    rows = [_row(framework, device, job, round_no, side, status=job["status"], reason=job["reason"][-600:])
            for side, job in sides.items() if job is not None and job["status"] != "ok"]
    if not ready:
        return rows
    samples: dict[str, list[float]] = {side: [] for side in ready}
    failed: dict[str, str] = {}
    order = [side for side in (first, "head" if first == "base" else "base") if side in ready]
    try:  # calibrate: ~30 ms of calls on the first side, so each sample lasts >= sample_time
        probe = max(1, math.ceil(0.03 / min(job["once"] for job in ready.values())))
        per_call = workers[order[0]].ask({"op": "time", "job": ready[order[0]]["job"], "number": probe})["seconds"]
    except WorkerError as exc:
        failed[order[0]] = str(exc)
        per_call = min(job["once"] for job in ready.values())
    number = max(1, math.ceil(opts.sample_time / per_call))
    for k in range(opts.alternations):
        for side in (order if k % 2 == 0 else order[::-1]):
            if side in ready and side not in failed:
                try:
                    samples[side].append(workers[side].ask({"op": "time", "job": ready[side]["job"],
                                                            "number": number})["seconds"])
                except WorkerError as exc:
                    failed[side] = str(exc)
    for side, job in ready.items():
        if side in failed:
            rows.append(_row(framework, device, job, round_no, side, status="failed", reason=failed[side][-600:]))
        else:
            values = samples[side]  # in the order taken: sample k of each side is one ABBA pair
            rows.append(_row(framework, device, job, round_no, side, value=statistics.fmean(values),
                             samples=" ".join(f"{v:.6g}" for v in values), number=number))
    return rows


def _rounds(opts, trees, framework, device, env, rng, label) -> tuple[list[dict], str | None]:
    """Paired rounds for one framework and device until decided, out of budget, or max_rounds."""
    rows: list[dict] = []
    started = time.monotonic()
    for round_no in range(1, opts.max_rounds + 1):
        round_start = time.monotonic()
        rows += one_round(opts, trees, framework, device, env, round_no, rng)
        part = pd.DataFrame(rows)
        if round_no == 1:
            if part.empty or (part.status == "skipped").all():
                reasons = sorted(set(part.reason)) if not part.empty else ["no benchmark matched --bench"]
                return [], reasons[0]
            if not (part[part.side == "head"].status == "ok").any():
                return rows, None  # head is broken: more rounds add nothing
        round_time = time.monotonic() - round_start
        elapsed = time.monotonic() - started
        if round_no < opts.min_rounds:
            _log(opts, f"{label} round {round_no}: {elapsed:.0f} s")
            continue
        verdicts = estimates(part, opts.threshold, opts.confidence)
        open_ = verdicts[verdicts.verdict == "inconclusive"]
        _log(opts, f"{label} round {round_no}: {len(verdicts) - len(open_)}/{len(verdicts)} decided, "
                   f"{elapsed:.0f} of {opts.budget:.0f} s")
        if open_.empty or elapsed + round_time > opts.budget:
            break
    return rows, None


# ---------------------------------------------------------------- the working store

def store_dir(root: Path, machine: str, base: str, head: str) -> Path:
    """results/compare/<machine>/<base8>-<head8>/: ignored by git, replaced by the next same compare."""
    return root / "results" / "compare" / machine / f"{base[:8]}-{head[:8]}"


def save(c: Comparison, out: Path, machine: str, opts: CompareOptions, fingerprint: dict | None) -> list[Path]:
    """Rounds, verdicts, the Markdown report, run metadata and asv-format results of both sides."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "rounds.csv", out / "verdicts.csv", out / "regressions.md", out / "meta.json"]
    c.rounds.to_csv(paths[0], index=False)
    c.verdicts.to_csv(paths[1], index=False)
    paths[2].write_text(render(c, machine, opts))
    meta = {"machine": machine, "base": c.base, "head": c.head, "fingerprint": fingerprint,
            "wall_seconds": c.wall_seconds, "skipped": c.skipped,
            "options": {k: v for k, v in vars(opts).items() if k not in ("root",)},
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    paths[3].write_text(json.dumps(meta, indent=2, default=str) + "\n")
    paths += save_asv(c, out / "asv", machine)
    return paths


def save_asv(c: Comparison, results_dir: Path, machine: str) -> list[Path]:
    """Both sides as asv results (one sample per round: the process is the unit of replication),
    so `asv compare`/`asv publish` and the report can read them."""
    from asv.results import Results

    from .replicate import add_results

    if c.rounds.empty:
        return []
    rows = c.rounds[c.rounds.benchmark != "(worker)"].rename(columns={"round": "process"})
    written = []
    for side, commit in (("base", c.base), ("head", c.head)):
        res = Results({"machine": machine}, {}, commit, int(time.time() * 1000), sys.version.split()[0],
                      "paired-rounds", {})
        add_results(res, rows[rows.side == side])
        res.save(str(results_dir))
        written.append(results_dir / res._filename)
    (results_dir / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}) + "\n")
    return written


def render(c: Comparison, machine: str, opts: CompareOptions) -> str:
    """The regression report in Markdown: the rule, the counts, one line per benchmark."""
    v = c.verdicts
    counts = v.verdict.value_counts()
    order = ["regression", "failed", "improvement", "inconclusive", "new", "gone", "base failed", "unchanged"]
    summary = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k, 0))
    walls = ", ".join(f"{k} {s:.0f} s" for k, s in c.wall_seconds.items())
    lines = [
        f"# Regression report: `{c.head[:8]}` vs `{c.base[:8]}` on `{machine}`",
        "",
        f"Paired rounds: each round starts fresh base and head processes and times every benchmark in "
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
        rank = {k: i for i, k in enumerate(order)}
        shown = v.assign(_r=v.verdict.map(rank)).sort_values(["_r", "framework", "benchmark", "param"])
        table = shown.assign(
            base=shown["base"].map(_rate), head=shown["head"].map(_rate),
            change=[outcome(c, r) for c, r in zip(shown.change, shown.reason)],
        )[["verdict", "benchmark", "params", "base", "head", "change"]]
        lines.append(table.rename(columns={"base": "base (per call)", "head": "head (per call)"})
                     .to_markdown(index=False, disable_numparse=True))
    for label, reason in c.skipped.items():
        lines.append(f"\nskipped {label}: {reason}")
    return "\n".join(lines) + "\n"


def _rate(seconds) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    return f"{seconds * 1e3:.3g} ms"
