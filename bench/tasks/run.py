"""`seqmnist-bench run`: probe what can run, then drive asv one (framework, device) at a time.

Running asv per framework and device keeps each finished chunk saved (asv writes results
only when a run completes), so an interrupted run keeps what it finished, and it lets each
chunk's accuracy training cover just that framework.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core import files, scratch
from bench.core.errors import RunError
from bench.core.processes import run_group
from bench.core.repo import dirty_tree, find_root, git, others_on_path, worker_env
from bench.core.text import scrub_paths
from bench.measure import estimate, rounds, stats
from bench.measure.rounds import PHASES
from bench.store import asv_results, fingerprint, history, layout, rounds_file
from bench.store.lock import Lock
from bench.workload.data import DataError, load_mnist
from bench.workload.harness import reached_by_most
from bench.workload.probe import host_info
from impls import DEVICES, FRAMEWORKS
from impls.config import ACCURACY_SEEDS, EPOCHS, QUICK_EPOCHS, SEQUENCE_EPOCHS


@dataclass
class RunOptions:
    quick: bool = False
    frameworks: tuple[str, ...] = FRAMEWORKS
    devices: tuple[str, ...] = DEVICES
    bench: str | None = None
    machine: str | None = None
    data_dir: str | None = None
    threads: int | None = None
    root: Path = field(default_factory=Path.cwd)
    show_stderr: bool = False
    quiet: bool = False
    processes: int | None = None  # paired rounds (a fresh process per framework each): None adaptive, from
    # MIN_ROUNDS until every width is met; N exactly N; 0 asv's single process, no rounds
    max_rounds: int = 40
    budget: float | None = None  # seconds of paired rounds (None: BUDGET)


@dataclass
class RunSummary:
    root: Path
    machine: str
    commit: str
    chunks_done: list[str]
    chunks_failed: list[str]
    skipped: dict[str, str]
    interrupted: bool = False
    kept: list[str] = field(default_factory=list)  # stored full results a quick run left in place


def chunk_regex(framework: str, device: str, user: str | None = None, quick: bool = False, exclude: str = "") -> str:
    """asv matches --bench against 'name(param, ...)': one framework+device, and the user's regex.
    Quick runs leave the heavy variants suite out unless the user's regex asks for it."""
    return "^" + rf"(?=.*\('{re.escape(framework)}', '{re.escape(device)}'[,)])" + asv_filters(user, quick, exclude)


def asv_filters(user: str | None, quick: bool, exclude: str = "") -> str:
    """The lookaheads chunk_regex adds after the framework and device: the user's regex, quick's
    and the caller's exclusions."""
    parts = [f"(?=.*(?:{user}))"] if user else []
    if quick and not (user and "variants" in user):
        parts.append(r"(?!variants\.)")
    return "".join(parts) + exclude


NEEDS_DATA = r"Accuracy\."  # accuracy.Accuracy, variants.PrecisionAccuracy and SequenceAccuracy train on MNIST


def selected(names: list[str], opts: RunOptions, exclude: str = "") -> list[str]:
    """The suite's benchmark names this run's --bench and --quick select (as asv will)."""
    pattern = re.compile("^" + asv_filters(opts.bench, opts.quick, exclude))
    return [n for n in names if pattern.search(n)]


def probe_framework(framework: str, env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.workload.probe", framework], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["unknown error"]
        return {"framework": framework, "available": False, "reason": f"probe failed: {tail[0]}", "devices": {}}
    return json.loads(proc.stdout)


def _log(opts: RunOptions, message: str) -> None:
    if not opts.quiet:
        print(message, file=sys.stderr, flush=True)


def build_env(opts: RunOptions, root: Path) -> dict:
    """Environment for asv and its benchmarks. ASV_PYTHONPATH (asv's stand-in for PYTHONPATH, which
    it strips) puts the measured checkout's code first, whatever checkout the venv was installed from."""
    path = os.pathsep.join([str(root), *others_on_path(os.environ, root)])  # the user's own entries stay: plugins
    env = dict(os.environ, ASV_PYTHONPATH=path, PYTHONPATH=path)
    if opts.threads:
        env["SEQMNIST_THREADS"] = str(opts.threads)
    # asv runs benchmarks in a temporary folder: a relative data path (option or variable) must be made absolute
    data_dir = opts.data_dir or env.get("SEQMNIST_DATA_DIR")
    if data_dir:
        env["SEQMNIST_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
    env["SEQMNIST_ACCURACY_EPOCHS"] = (
        str(QUICK_EPOCHS) if opts.quick else env.get("SEQMNIST_ACCURACY_EPOCHS", str(EPOCHS))
    )
    env["SEQMNIST_ACCURACY_SEEDS"] = "1" if opts.quick else env.get("SEQMNIST_ACCURACY_SEEDS", str(ACCURACY_SEEDS))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


MAX_MACHINE_NAME = 64


def check_machine_name(name: str | None) -> str:
    """The machine name results go under: `name`, default the host name; RunError if unusable
    (it becomes a folder name under results/asv and results/meta)."""
    name = name or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or len(name) > MAX_MACHINE_NAME:
        raise RunError(
            f"machine name {name[:80]!r}: must start with a letter or digit, hold only letters, digits, "
            f"'.', '_' or '-', and be at most {MAX_MACHINE_NAME} characters"
        )
    return name


def identify_host(
    meta_root: Path, name: str | None, threads: int | None, log=print, claim: bool = True
) -> tuple[str, dict, dict]:
    """(machine key, fingerprint, host info) for results measured here, the same for run, compare
    and noise; says so when this host is kept apart from the one stored under `name`. With `claim`
    false the fingerprint is not stored yet (a command that may fail before it stores anything)."""

    name = check_machine_name(name)
    fingerprint.stored(meta_root, name)  # a corrupt one is named before seconds of probing and calibration
    host = host_info() if not threads else {**host_info(), "threads": threads}
    fp = fingerprint.take(host, fingerprint.installed_versions(FRAMEWORKS))
    key, warning = fingerprint.machine_key(meta_root, name, fp, claim)
    if warning:
        log(f"warning: {warning}")
    return key, fp, host


def run_suite(opts: RunOptions) -> RunSummary:
    """Probe, then run asv per available (framework, device); write run metadata beside results.
    One run at a time per checkout (bench.store.lock)."""

    root = find_root(opts.root)
    with Lock(root, "run"):
        scratch.sweep()  # what a killed run or compare left in the temporary folder
        files.sweep(layout.results_dir(root))  # and half-written files a kill left beside the results
        return _run_locked(opts, root)


def _run_locked(opts: RunOptions, root: Path) -> RunSummary:

    unknown = [f for f in opts.frameworks if f not in FRAMEWORKS] + [d for d in opts.devices if d not in DEVICES]
    if unknown:
        raise RunError(f"unknown framework/device {unknown}; frameworks {FRAMEWORKS}, devices {DEVICES}")
    check_machine_name(opts.machine)
    names = suite_names(root)
    chosen = selected(names, opts)
    if not chosen:
        raise RunError(
            f"no benchmark matches --bench {opts.bench!r}"
            + (" in a --quick run (which leaves the variants suite out unless --bench names it)" if opts.quick else "")
            + "; names look like throughput.TrainStep.time_train_step"
        )
    commit = git(root, "rev-parse", "HEAD")
    dirty = dirty_tree(root)
    if dirty:
        _log(opts, f"warning: uncommitted changes; results are stored under HEAD {commit[:8]} (marked dirty)")
    env = build_env(opts, root)

    wants_accuracy = any(re.search(NEEDS_DATA, n) for n in chosen)
    data_note = "not needed: no accuracy benchmark selected"
    if wants_accuracy:
        try:
            data_note = load_mnist(env.get("SEQMNIST_DATA_DIR")).published()
        except DataError as exc:
            if env.get("SEQMNIST_DATA_DIR") or all(re.search(NEEDS_DATA, n) for n in chosen):
                raise  # the folder named, or the only benchmarks asked for, cannot be had: exit 2
            data_note = "unavailable: " + scrub_paths(str(exc))
            _log(opts, f"accuracy benchmarks will be skipped (no --data-dir given): {exc}")

    probes = {f: probe_framework(f, env) for f in opts.frameworks}
    chunks, skipped = [], {}
    for framework, info in probes.items():
        for device in opts.devices:
            reason = info["reason"] if not info["available"] else info["devices"].get(device)
            if reason:
                skipped[f"{framework}:{device}"] = reason
            else:
                chunks.append((framework, device))
    for key, reason in skipped.items():
        _log(opts, f"skip {key}: {reason}")
    if not chunks:
        raise RunError("nothing can run here: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))

    machine, fp, host = identify_host(root, opts.machine, opts.threads, log=lambda m: _log(opts, m))
    subprocess.run(
        [sys.executable, "-m", "asv", "machine", "--yes", "--machine", machine],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    meta = {
        "machine": machine,
        "commit": commit,
        "dirty": dirty,
        "quick": opts.quick,
        "accuracy_epochs": int(env["SEQMNIST_ACCURACY_EPOCHS"]),
        "accuracy_seeds": int(env["SEQMNIST_ACCURACY_SEEDS"]),
        "sequence_epochs": int(env.get("SEQMNIST_SEQUENCE_EPOCHS") or SEQUENCE_EPOCHS),
        "host": host,
        "fingerprint": fp,
        "processes": opts.processes,
        "bench": opts.bench,  # the --bench regex, None for every benchmark
        "frameworks": probes,
        "skipped": skipped,
        "data": data_note,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    summary = RunSummary(root, machine, commit, [], [], skipped)
    results_dir = layout.asv_dir(root)
    asv_env = asv_results.asv_env_name(root)
    asv_results.expose(results_dir, machine, commit, asv_env)  # the published file, under the name asv appends to
    before = history.snapshot(results_dir, machine, commit)
    provenance = history.provenance(meta_path(root, machine, commit), before)
    write_meta(root, meta)
    replicated = opts.processes != 0 and any(re.search("^" + PAIRED, n) for n in chosen)
    exclude = ASV_EXCLUDE if replicated else ""
    # asv exits 1 on "No benchmarks selected": --bench may ask for replicated throughput only
    chunks_for_asv = chunks if selected(names, opts, exclude) else []
    append = appends(provenance, chosen, opts.quick, dirty)
    seed_dir = scratch.make("seeds")
    began, asv_seconds = time.monotonic(), 0.0
    try:
        for i, (framework, device) in enumerate(chunks_for_asv, 1):
            label = f"{framework}:{device}"
            _log(opts, f"[{i}/{len(chunks_for_asv)}] {label}: asv run ({'quick' if opts.quick else 'full'})")
            cmd = [
                sys.executable,
                "-m",
                "asv",
                "run",
                "--python=same",
                f"--set-commit-hash={commit}",
                f"--machine={machine}",
                "--launch-method=spawn",
                "--bench",
                chunk_regex(framework, device, opts.bench, opts.quick, exclude),
            ]
            if opts.quick:
                cmd.append("--quick")
            cmd.append("--record-samples")  # per-process samples (cold start) give the report its intervals
            if append:
                cmd.append("--append-samples")
            if opts.show_stderr:
                cmd.append("--show-stderr")
            seed_log = seed_dir / f"{framework}-{device}.jsonl"
            chunk_env = dict(env, SEQMNIST_ACCURACY_RUNS=label, SEQMNIST_SEED_LOG=str(seed_log))
            chunk_began = time.monotonic()
            try:
                code = run_group(cmd, root, chunk_env, quiet=opts.quiet)
                asv_seconds += time.monotonic() - chunk_began
            except KeyboardInterrupt:
                summary.interrupted = True
                _log(
                    opts,
                    f"\ninterrupted during {label} (its processes stopped); finished chunks are kept: "
                    f"{summary.chunks_done or 'none'}",
                )
                break
            # asv exits 2 when a benchmark failed; results of the others are still stored
            (summary.chunks_done if code == 0 else summary.chunks_failed).append(label)
            if _store_seeds(seed_log, root, machine, commit):
                _log(opts, f"{label}: each accuracy seed stored as one sample")
        if replicated and not summary.interrupted:
            try:
                meta["rounds"] = _replicate(opts, root, machine, commit, chunks, env, summary, append)
            except KeyboardInterrupt:
                summary.interrupted = True
                _log(opts, "\ninterrupted during the replicated throughput runs; the asv results are kept")
    finally:  # also on an interrupt: a quick run never leaves a full result replaced
        shutil.rmtree(seed_dir, ignore_errors=True)
        if opts.quick:
            summary.kept = history.keep_full(before, results_dir, machine, commit, provenance)
            if summary.kept:
                _log(
                    opts,
                    f"kept {len(summary.kept)} full result(s) stored for {commit[:8]} from an earlier run; "
                    "this quick run's values for them are dropped: "
                    + ", ".join(summary.kept[:4])
                    + (" …" if len(summary.kept) > 4 else ""),
                )
        meta["wall_seconds"] = {"run": round(time.monotonic() - began, 1), "asv": round(asv_seconds, 1)}
        _log(opts, spent_line(meta))
        meta["benchmarks"] = history.updated_provenance(provenance, before, results_dir, machine, commit, meta)
        meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        meta["chunks_done"], meta["chunks_failed"] = summary.chunks_done, summary.chunks_failed
        write_meta(root, meta)
        asv_results.neutralize(results_dir, machine, commit, asv_env)  # no local path in a published name
    return summary


def spent_line(meta: dict) -> str:
    """The run's wall time, its asv part and the share of it inside the rounds' timed samples."""
    wall, rounds = meta["wall_seconds"], meta.get("rounds") or {}
    sampling = (rounds.get("phases") or {}).get("sampling", 0.0)
    return (
        f"[run] {wall['run']:.0f} s in all: asv {wall['asv']:.0f} s (cold start, memory, accuracy), paired rounds "
        f"{rounds.get('wall_seconds', 0.0):.0f} s; timed samples {sampling:.0f} s ({sampling / max(wall['run'], 1e-9):.0%} "
        "of the run)"
    )


def appends(provenance: dict, chosen: list[str], quick: bool, dirty: bool) -> bool:
    """Whether this run adds its processes (asv samples, rounds) to those stored for the commit: only a
    full run of a clean tree, and only onto full results; stored quick results of a benchmark it runs are
    replaced, never mixed with a full run's (other sample lengths and settings)."""
    if quick or dirty:
        return False
    return not any(provenance.get(name, {}).get("quick", True) for name in chosen if name in provenance)


def suite_names(root: Path) -> list[str]:
    """Every asv benchmark name of the suite (asv_runner's discovery; imports no framework)."""
    from asv_runner.discovery import disc_benchmarks

    suites = root / "bench" / "suites"
    if not (suites / "__init__.py").is_file():
        raise RunError(f"{root}: no benchmark suite (bench/suites/): not a seqmnist-bench checkout")
    added = [str(root), str(suites.parent)]
    sys.path[:0] = added
    try:
        return [b.name for b in disc_benchmarks(str(suites))]
    finally:
        del sys.path[: len(added)]


# The steady-state time benchmarks the paired-rounds engine measures (every framework's process alive
# in each round, samples alternating among them); asv measures the rest.
PAIRED = (
    r"(throughput\.(TrainStep|Predict)|baseline\.(MinimalLoop|HostMatmul)"
    r"|variants\.(ImplementationVariants|Precisions|Sequences|HiddenScaling))\."
)
ASV_EXCLUDE = rf"(?!{PAIRED})"  # what asv itself then leaves out
QUICK_KEYS = r"(128)?"  # a quick run times batch 128 (and the unparametrised host matmul) only: more rounds
# in its minutes, so its ratios can be decided to ±8%
BUDGET = {False: 2400.0, True: 240.0}  # seconds of paired rounds, full / quick (--budget)


def paired_pattern(opts: RunOptions) -> str:
    """The engine's benchmark regex: PAIRED, narrowed by --bench, without variants in a quick run."""
    user = f"(?=.*(?:{opts.bench}))" if opts.bench else ""
    quick = r"(?!variants\.)" if opts.quick and not (opts.bench and "variants" in opts.bench) else ""
    return "^" + user + quick + PAIRED


def _replicate(
    opts: RunOptions, root: Path, machine: str, commit: str, chunks, env: dict, summary: RunSummary, append: bool
) -> dict:
    """The paired-rounds engine over every (framework, device) this run measures, until every ratio to the
    reference framework and every cell is within its width or the budget is spent; stored as one asv
    sample per round (process) and as the rounds file the report pairs from. Returns what it did."""

    arms = [rounds.Arm(f"{fw}:{dev}", root, fw, dev) for fw, dev in chunks]
    reference = next((a.name for a in arms if a.framework == estimate.REFERENCE), arms[0].name)
    ratio_width = estimate.RATIO_TARGET[opts.quick]
    budget = opts.budget if opts.budget is not None else BUDGET[opts.quick]
    least, most = (opts.processes, opts.processes) if opts.processes else (stats.MIN_ROUNDS, opts.max_rounds)
    if opts.processes:
        budget = math.inf  # exactly the rounds asked for
    plan = rounds.Plan(
        bench=paired_pattern(opts),
        min_rounds=least,
        max_rounds=max(least, most),
        budget=budget,
        alternations=6 if opts.quick else 8,  # a round stages in ~20 s: these keep ~70% of it in timed
        # samples, and a quick run's 6 rounds of five frameworks within 10 minutes (docs/validation.md)
        sample_time=0.15,
        keys=QUICK_KEYS if opts.quick else None,
        seed=int(time.time()),
        reference=reference,
    )

    def check(frame: pd.DataFrame, round_no: int) -> str | None:
        left = estimate.open_items(frame, reference, ratio_width, estimate.CELL_TARGET)
        if left:
            _log(
                opts,
                f"[rounds] {len(left)} not yet within width: " + ", ".join(left[:4]) + (" …" if len(left) > 4 else ""),
            )
        return None if left else "every ratio and cell within its width"

    _log(
        opts,
        f"[rounds] {len(arms)} frameworks alive together per round; ratios to {reference} until within "
        f"±{ratio_width:.0%} (cells ±{estimate.CELL_TARGET:.0%}) or {budget:.0f} s",
    )
    result = rounds.run_rounds(
        arms, plan, worker_env(root, opts.threads, env), check=check, log=lambda m: _log(opts, f"[rounds] {m}")
    )
    summary.interrupted = summary.interrupted or result.interrupted  # what finished is stored below, then exit 130
    frame = result.frame
    results_dir = layout.asv_dir(root)
    measured = frame[frame.benchmark != "(worker)"].rename(columns={"round": "process"})
    if not measured.empty:
        asv_results.store(
            measured, results_dir, machine, commit, asv_results.env_name(results_dir, machine, commit), append=append
        )
        rounds_file.save(frame, results_dir, machine, commit, append=append)
    failed = sorted({f"{r.framework}:{r.device}" for r in frame.itertuples() if r.status == "failed"})
    summary.chunks_failed += [f for f in failed if f not in summary.chunks_failed]
    left = estimate.open_items(frame, reference, ratio_width, estimate.CELL_TARGET) if not measured.empty else []
    _log(opts, f"[rounds] stopped: {result.stopped} ({result.wall_seconds:.0f} s)")
    _log(opts, "[rounds] " + where_time_went(result))
    carry = estimate.carryover(frame)
    if not measured.empty:
        _log(opts, "[rounds] " + estimate.describe_carryover(carry))
    return {
        "efficiency": round(result.efficiency, 4),
        "phases": {k: round(v, 1) for k, v in result.phases.items()},
        "staged": {a: {k: round(v, 2) for k, v in parts.items()} for a, parts in result.staged.items()},
        "carryover": json.loads(carry.to_json(orient="records")) if len(carry) else [],
        "stopped": result.stopped,
        "wall_seconds": round(result.wall_seconds, 1),
        "rounds": int(frame["round"].max()) if len(frame) else 0,
        "reference": reference,
        "ratio_width": ratio_width,
        "cell_width": estimate.CELL_TARGET,
        "budget": budget,
        "not_within_width": left,
        "alternations": plan.alternations,
        "sample_time": plan.sample_time,
    }


def where_time_went(result) -> str:
    """One line: the share of the rounds' wall time inside timed samples, and where the rest went (the
    workers' own import and setup seconds per round, which overlap: they stage side by side)."""

    wall, phases = result.wall_seconds, result.phases
    rounds_taken = max(1, int(result.frame["round"].max()) if len(result.frame) else 1)
    parts = ", ".join(f"{name} {phases.get(name, 0.0):.0f} s" for name in PHASES if name != "sampling")
    other = wall - sum(phases.values())
    staged = "; ".join(
        f"{arm.split(':')[0]} " + " + ".join(f"{k} {v / rounds_taken:.1f} s" for k, v in own.items())
        for arm, own in sorted(result.staged.items())
    )
    return (
        f"timed samples {phases.get('sampling', 0.0):.0f} s of {wall:.0f} s ({result.efficiency:.0%}); {parts}, "
        f"harness {other:.0f} s"
        + (f"; per round each worker's own import + setup (side by side): {staged}" if staged else "")
    )


def _store_seeds(log: Path, root: Path, machine: str, commit: str) -> int:
    """Each accuracy seed as one sample of this commit's accuracy results (replacing what asv stored for
    those cells: a rerun trains the same seeds, so its values are no extra replicates). Cells stored."""

    results_dir = layout.asv_dir(root)
    try:
        described = json.loads((results_dir / "benchmarks.json").read_text())
    except (OSError, ValueError):
        return 0
    rows = seed_rows(log, described)
    if rows.empty:
        return 0
    asv_results.store(rows, results_dir, machine, commit, asv_results.env_name(results_dir, machine, commit))
    return int(rows.groupby(["benchmark", "param"]).ngroups)


ACCURACY_BENCHMARKS = {
    "test_error": "accuracy.Accuracy.track_test_error",
    "steps_to_accuracy": "accuracy.Accuracy.track_steps_to_accuracy",
    "time_to_accuracy": "accuracy.Accuracy.track_time_to_accuracy",
}


def seed_rows(log: Path, described: dict) -> pd.DataFrame:
    """The accuracy suite's per-seed values (bench.workload.harness.train_runs wrote one JSON line per framework
    and device to the seed log) as rows for store(): one sample per seed. Times to accuracy only where
    the stored value is theirs (most seeds reached the target)."""

    rows = []
    for line in log.read_text().splitlines() if log.is_file() else []:
        entry = json.loads(line)
        framework, device, _ = entry["key"].split(":")
        for metric, name in ACCURACY_BENCHMARKS.items():
            info = described.get(name)
            if not info:
                continue
            combos = [tuple(c) for c in itertools.product(*info["params"])]
            combo = (repr(framework), repr(device), str(entry["epochs"]))
            reached = reached_by_most(entry[metric]) if entry.get(metric) else None  # older logs lack steps
            if combo not in combos or reached is None:
                continue
            rows += [
                {
                    "benchmark": name,
                    "param": combos.index(combo),
                    "process": seed,
                    "value": float(v),
                    "status": "ok",
                    "all_params": json.dumps(info["params"]),
                    "version": info.get("version", "1"),
                    "framework": framework,
                    "device": device,
                }
                for seed, v in enumerate(reached)
            ]
    return pd.DataFrame(rows)


def meta_path(root: Path, machine: str, commit: str) -> Path:
    return layout.meta_file(root, machine, commit)


def write_meta(root: Path, meta: dict) -> None:
    """Environment record of a run (versions, threads, CPU/GPU, skips), keyed by machine and commit."""
    path = meta_path(root, meta["machine"], meta["commit"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():  # an earlier run of this commit (other frameworks, or a compare round): merge
        old = files.read_json(path)  # a corrupt record stops the run (exit 2) rather than being replaced
        for key in ("frameworks", "skipped"):
            meta[key] = {**old.get(key, {}), **meta.get(key, {})}
        for key in ("chunks_done", "chunks_failed"):
            meta[key] = sorted(set(old.get(key, [])) | set(meta.get(key, [])))
        meta["benchmarks"] = meta.get("benchmarks") or old.get("benchmarks", {})
        if str(meta.get("data", "")).startswith("not needed") and old.get("data"):
            meta["data"] = old["data"]  # the data the stored accuracy was measured on, not this run's none
    files.write_text(path, json.dumps(meta, indent=2, sort_keys=True))
