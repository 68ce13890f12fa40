"""`seqmnist-bench run`: probe what can run, take the paired rounds, then drive asv one (framework,
device) at a time for what the rounds do not time (cold start, memory, accuracy).

Running asv per framework and device keeps each finished chunk saved (asv writes results
only when a run completes), so an interrupted run keeps what it finished, and it lets each
chunk's accuracy training cover just that framework.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core import files, interrupts, scratch
from bench.core.errors import RunError
from bench.core.processes import run_group
from bench.core.repo import dirty_tree, find_root, git, others_on_path, worker_env
from bench.core.text import scrub_paths
from bench.measure import estimate, rounds, stats
from bench.measure.forks import ForkServers
from bench.measure.sampler import busy_rounds, spent_line, where_time_went
from bench.store import asv_results, fingerprint, layout, provenance, reruns, rounds_file
from bench.store.run_meta import meta_path, write_meta
from bench.store.run_store import RoundsStore
from bench.tasks import seeds
from bench.tasks.host import check_machine_name, identify_host
from bench.tasks.selection import (
    ALTERNATIONS,
    ASV_EXCLUDE,
    NEEDS_DATA,
    QUICK_KEYS,
    chunk_regex,
    key_groups,
    paired_pattern,
    rounds_budget,
    selected,
    suite_names,
)
from bench.workload.benchmarks import PAIRED
from bench.workload.data import DataError, load_mnist
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
    budget: float | None = None  # seconds of paired rounds (None: selection.rounds_budget's default)
    fresh_processes: bool = False  # every worker a new interpreter (no fork server: bench/measure/forks.py)


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
        env["SEQMNIST_DATA_DIR"] = os.path.abspath(Path(data_dir).expanduser())  # not resolved: a link loop is the
        # data layer's "does not exist", never an error here (and benchmarks that need no data go on)
    env["SEQMNIST_ACCURACY_EPOCHS"] = (
        str(QUICK_EPOCHS) if opts.quick else env.get("SEQMNIST_ACCURACY_EPOCHS", str(EPOCHS))
    )
    env["SEQMNIST_ACCURACY_SEEDS"] = "1" if opts.quick else env.get("SEQMNIST_ACCURACY_SEEDS", str(ACCURACY_SEEDS))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_suite(opts: RunOptions) -> RunSummary:
    """Probe, then run asv per available (framework, device); write run metadata beside results. The
    caller holds the checkout's lock (bench/cli: one command at a time per checkout)."""

    began = time.monotonic()  # a quick run's minutes count from here (selection.rounds_budget)
    root = find_root(opts.root)
    scratch.sweep()  # what a killed run or compare left in the temporary folder
    files.sweep(layout.results_dir(root))  # and half-written files a kill left beside the results
    return _run_locked(opts, root, began)


def _run_locked(opts: RunOptions, root: Path, began: float) -> RunSummary:
    """The run, in order: what was asked for, the data, what can run, the machine, then the rounds and
    asv's part; its closing writes (metadata, kept results, names) happen whatever ends it."""
    names, chosen = _asked_for(opts, root)
    commit, dirty = git(root, "rev-parse", "HEAD"), dirty_tree(root)
    if dirty:
        _log(opts, f"warning: uncommitted changes; results are stored under HEAD {commit[:8]} (marked dirty)")
    env = build_env(opts, root)
    dropped = rounds.stabilizers(env)
    if dropped:
        _log(opts, f"the timed workers run as plain processes, without {', '.join(dropped)} (set here)")
    data_note = _data_note(opts, env, chosen)
    probes, chunks, skipped = _what_can_run(opts, env)
    machine, fp, host = identify_host(root, opts.machine, opts.threads, log=lambda m: _log(opts, m), claim=False)
    _register_machine(root, env, machine)
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
        "closed_division": {  # the settings the plain-process workers ran without, and those that only
            # shorten their staging (which frameworks' workers)
            "dropped": dropped,
            "staging": {"compile_cache": sorted(rounds.compile_cache(env)), "for": list(rounds.COMPILE_CACHED)},
        },
        "bench": opts.bench,  # the --bench regex, None for every benchmark
        "selected": {"benchmarks": chosen, "keys": QUICK_KEYS if opts.quick else None},  # what was asked for:
        # a benchmark or key it left out is "not measured" in a verdict, never "gone"
        "frameworks": probes,
        "skipped": skipped,
        "data": data_note,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    summary = RunSummary(root, machine, commit, [], [], skipped)
    results_dir = layout.asv_dir(root)
    asv_env = asv_results.asv_env_name(root)
    check_stored(root, machine, commit)  # before anything is renamed, written or measured
    fingerprint.claim_key(root, machine, fp)  # the key is this host's from here on
    asv_results.expose(results_dir, machine, commit, asv_env)  # the published file, under the name asv appends to
    before = provenance.snapshot(results_dir, machine, commit)
    described = provenance.descriptions(layout.benchmarks_file(root))
    stored_by = provenance.provenance(meta_path(root, machine, commit), before)
    replicated = opts.processes != 0 and any(re.search("^" + PAIRED, n) for n in chosen)
    exclude = ASV_EXCLUDE if replicated else ""
    # asv exits 1 on "No benchmarks selected": --bench may ask for replicated throughput only
    for_asv = selected(names, opts, exclude)
    chunks_for_asv = chunks if for_asv else []
    meta["asv_suites"] = sorted({n.split(".")[0] for n in for_asv}) if chunks_for_asv else []
    append = appends(stored_by, chosen, opts.quick, dirty)
    store = RoundsStore(
        results_dir,
        machine,
        commit,
        asv_results.env_name(results_dir, machine, commit, default=asv_env),
        append,
        protected=frozenset(set(provenance.full_results(stored_by)) & set(chosen) if opts.quick else ()),
    )
    write_meta(root, meta)
    seed_dir = scratch.make("seeds")
    asv_seconds = 0.0
    try:
        if replicated:  # the rounds first: their ratios are the answer, and after asv's part a run's first
            # round stood apart from its others (docs/findings.md, "The first round of a run")
            try:
                budget = rounds_budget(opts.quick, opts.budget, time.monotonic() - began)
                meta["rounds"] = _replicate(opts, root, machine, chunks, env, summary, store, budget)
            except KeyboardInterrupt:
                summary.interrupted = True
                _log(opts, "\ninterrupted during the paired rounds; what was stored is kept, asv's part is skipped")
        if not summary.interrupted:
            asv_seconds = _run_asv(opts, root, machine, commit, chunks_for_asv, exclude, append, env, summary, seed_dir)
    finally:  # also on an interrupt: a quick run never leaves a full result replaced; a signal that comes
        # while this is written waits for the end of it (the stores, the metadata and the file names agree)
        with interrupts.deferred():
            shutil.rmtree(seed_dir, ignore_errors=True)
            if opts.quick:
                _keep_full_results(opts, summary, described, before, stored_by)
            meta["wall_seconds"] = {"run": round(time.monotonic() - began, 1), "asv": round(asv_seconds, 1)}
            _log(opts, spent_line(meta))
            meta["benchmarks"] = provenance.updated_provenance(stored_by, before, results_dir, machine, commit, meta)
            meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            meta["chunks_done"], meta["chunks_failed"] = summary.chunks_done, summary.chunks_failed
            write_meta(root, meta)
            asv_results.neutralize(results_dir, machine, commit, asv_env)  # no local path in a published name
    return summary


def _asked_for(opts: RunOptions, root: Path) -> tuple[list[str], list[str]]:
    """(every benchmark of the suite, those this run selects); RunError for an unknown framework, device
    or machine name, or a selection of nothing."""
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
    return names, chosen


def _data_note(opts: RunOptions, env: dict, chosen: list[str]) -> str:
    """What the run metadata says of MNIST. A named folder that cannot be read, or no data where only
    accuracy benchmarks were asked for, is a DataError (exit 2); otherwise those benchmarks skip."""
    if not any(re.search(NEEDS_DATA, n) for n in chosen):
        return "not needed: no accuracy benchmark selected"
    try:
        return load_mnist(env.get("SEQMNIST_DATA_DIR")).published()
    except DataError as exc:
        if env.get("SEQMNIST_DATA_DIR") or all(re.search(NEEDS_DATA, n) for n in chosen):
            raise
        _log(opts, f"accuracy benchmarks will be skipped (no --data-dir given): {exc}")
        return "unavailable: " + scrub_paths(str(exc))


def _what_can_run(opts: RunOptions, env: dict) -> tuple[dict, list[tuple[str, str]], dict[str, str]]:
    """(each framework's probe, the (framework, device) chunks that can run, why the others cannot);
    RunError when nothing can."""
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
    return probes, chunks, skipped


def _register_machine(root: Path, env: dict, machine: str) -> None:
    """`asv machine` for `machine`; RunError in asv's own words where it cannot (a HOME it cannot write)."""
    registered = subprocess.run(
        [sys.executable, "-m", "asv", "machine", "--yes", "--machine", machine],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if registered.returncode != 0:
        said = (registered.stderr.strip() or registered.stdout.strip() or "no message").splitlines()[-1]
        raise RunError(f"asv could not record machine {machine!r} (asv machine exited {registered.returncode}): {said}")


def _keep_full_results(opts: RunOptions, summary: RunSummary, described, before, stored_by) -> None:
    """A quick run never replaces a full result stored for the commit: those are put back, and named."""
    results_dir = layout.asv_dir(summary.root)
    provenance.keep_descriptions(described, layout.benchmarks_file(summary.root))
    summary.kept = provenance.keep_full(before, results_dir, summary.machine, summary.commit, stored_by)
    if summary.kept:
        _log(
            opts,
            f"kept {len(summary.kept)} full result(s) stored for {summary.commit[:8]} from an earlier run; "
            "this quick run's values for them are dropped: "
            + ", ".join(summary.kept[:4])
            + (" …" if len(summary.kept) > 4 else ""),
        )


def check_stored(root: Path, machine: str, commit: str) -> None:
    """Read every stored file this run will add to, before the first worker starts: this commit's asv
    results, rounds file and run metadata on this machine, and asv's benchmarks.json. CorruptFile (exit
    2) names the first that cannot be read; another machine's files are not read."""
    results_dir = layout.asv_dir(root)
    for path in sorted((results_dir / machine).glob(f"{commit[:8]}-*.json")):
        files.read_json(path)  # asv's own reader passes over a file it cannot parse
    before = provenance.snapshot(results_dir, machine, commit)
    provenance.provenance(meta_path(root, machine, commit), before)
    rounds_file.load_for(results_dir, machine, commit)
    if layout.benchmarks_file(root).is_file():
        files.read_json(layout.benchmarks_file(root))


def _run_asv(
    opts: RunOptions,
    root: Path,
    machine: str,
    commit: str,
    chunks: list,
    exclude: str,
    append: bool,
    env: dict,
    summary: RunSummary,
    seed_dir: Path,
) -> float:
    """asv run once per (framework, device): cold start, memory, accuracy (what the rounds do not time).
    An interrupt stops the chunk under way and keeps those finished. Returns asv's wall seconds."""
    seconds = 0.0
    for i, (framework, device) in enumerate(chunks, 1):
        label = f"{framework}:{device}"
        _log(opts, f"[{i}/{len(chunks)}] {label}: asv run ({'quick' if opts.quick else 'full'})")
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
            code = run_group(cmd, root, chunk_env, quiet=opts.quiet, restore=layout.benchmarks_file(root))
            seconds += time.monotonic() - chunk_began
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
        if seeds.store_seeds(seed_log, root, machine, commit):
            _log(opts, f"{label}: each accuracy seed stored as one sample")
    return seconds


def _rerun_term(tau: float, ratio_width: float) -> str:
    """What the stop rule adds for the spread between runs, as the page does (nothing where unmeasured)."""
    if not tau > 0:
        return ""
    term = stats.rerun_term(tau)  # the page's term, the one function
    said = f", this machine's run-to-run term ±{term:.1%} included"
    return said + (": wider than the target alone, so the budget ends the rounds" if term >= ratio_width else "")


def appends(stored_by: dict, chosen: list[str], quick: bool, dirty: bool) -> bool:
    """Whether this run adds its processes (asv samples, rounds) to those stored for the commit: only a
    full run of a clean tree, and only onto full results; stored quick results of a benchmark it runs are
    replaced, never mixed with a full run's (other sample lengths and settings)."""
    if quick or dirty:
        return False
    return not any(stored_by.get(name, {}).get("quick", True) for name in chosen if name in stored_by)


def _replicate(
    opts: RunOptions,
    root: Path,
    machine: str,
    chunks,
    env: dict,
    summary: RunSummary,
    store: RoundsStore,
    budget: float,
) -> dict:
    """The paired-rounds engine over every (framework, device) this run measures, until every ratio to the
    reference framework and every cell is within its width or the budget is spent; each round stored the
    moment it finishes, as one asv sample per process and in the rounds file the report pairs from
    (`store`). Returns what it did, for the run metadata."""
    arms = [rounds.Arm(f"{fw}:{dev}", root, fw, dev) for fw, dev in chunks]
    reference = next((a.name for a in arms if a.framework == estimate.REFERENCE), arms[0].name)
    ratio_width = estimate.RATIO_TARGET[opts.quick]
    tau = reruns.tau(layout.results_dir(root), machine)  # the page widens this machine's ratios by it
    plan = _rounds_plan(opts, reference, budget)
    _log(
        opts,
        f"[rounds] {len(arms)} frameworks per round, one process at a time; ratios to {reference} until within "
        f"±{ratio_width:.0%}{_rerun_term(tau, ratio_width)} (cells ±{estimate.CELL_TARGET:.0%}) or {plan.budget:.0f} s",
    )
    if store.protected:
        _log(
            opts,
            f"[rounds] stored full results of {len(store.protected)} benchmark(s) stay; this quick run's "
            "rounds of them are shown, not stored: " + ", ".join(sorted(store.protected)[:3]),
        )

    def check(frame: pd.DataFrame, round_no: int) -> str | None:
        left = estimate.open_items(frame, reference, ratio_width, estimate.CELL_TARGET, tau=tau)
        if left:
            _log(
                opts,
                f"[rounds] {len(left)} not yet within width: " + ", ".join(left[:4]) + (" …" if len(left) > 4 else ""),
            )
        return None if left else "every ratio and cell within its width"

    def keep(frame: pd.DataFrame) -> None:  # stored the moment the round ends, then the answer so far
        store.save(frame)
        _log_answer(opts, frame, reference, tau)

    result, imports = _run_engine(opts, root, arms, plan, env, check, keep)
    summary.interrupted = summary.interrupted or result.interrupted  # what finished is stored: exit 130
    frame = result.frame
    failed = sorted({f"{r.framework}:{r.device}" for r in frame.itertuples() if r.status == "failed"})
    summary.chunks_failed += [f for f in failed if f not in summary.chunks_failed]
    measured = not frame[frame.benchmark != "(worker)"].empty
    left = estimate.open_items(frame, reference, ratio_width, estimate.CELL_TARGET, tau=tau) if measured else []
    carry = estimate.carryover(frame)
    _log(opts, f"[rounds] stopped: {result.stopped} ({result.wall_seconds:.0f} s)")
    _log(opts, "[rounds] " + where_time_went(result))
    if measured:
        _log(opts, "[rounds] " + estimate.describe_carryover(carry))
    return {
        "efficiency": round(result.efficiency, 4),
        "phases": {k: round(v, 1) for k, v in result.phases.items()},
        "staged": {a: {k: round(v, 2) for k, v in parts.items()} for a, parts in result.staged.items()},
        "steal": {str(k): round(v, 2) for k, v in result.steal.items()},  # round -> the host's steal seconds
        "outside": {str(k): round(v, 2) for k, v in result.outside.items()},  # round -> other processes' CPU-s
        "busy_rounds": busy_rounds(result.outside, result.walls),  # rounds that ran beside other work
        "carryover": json.loads(carry.to_json(orient="records")) if len(carry) else [],
        "stopped": result.stopped,
        "wall_seconds": round(result.wall_seconds, 1),
        "rounds": int(frame["round"].max()) if len(frame) else 0,
        "reference": reference,
        "ratio_width": ratio_width,
        "rerun_tau": tau,
        "cell_width": estimate.CELL_TARGET,
        "budget": plan.budget,
        "not_within_width": left,
        "alternations": plan.alternations,
        "sample_time": plan.sample_time,
        "forked": imports,  # arm -> its fork server's import seconds: its workers were forked from it
        # (docs/validation.md, "Forked workers")
    }


def _rounds_plan(opts: RunOptions, reference: str, budget: float) -> rounds.Plan:
    """The engine's plan for this run: adaptive rounds from stats.MIN_ROUNDS within `budget` seconds, or
    exactly --processes rounds with no budget."""
    least, most = (opts.processes, opts.processes) if opts.processes else (stats.MIN_ROUNDS, opts.max_rounds)
    if opts.processes:
        budget = math.inf  # exactly the rounds asked for
    return rounds.Plan(
        bench=paired_pattern(opts),
        min_rounds=least,
        max_rounds=max(least, most),
        budget=budget,
        alternations=ALTERNATIONS[opts.quick],
        sample_time=0.15,
        keys=QUICK_KEYS if opts.quick else None,
        key_groups=key_groups(opts),
        seed=int(time.time()),
        reference=reference,
        stage_timeout=min(rounds.Plan.stage_timeout, budget),  # a worker stuck while staging: its row fails
        one_at_a_time=True,  # the closed division: each framework's process alone, as its users run it
    )


def _log_answer(opts: RunOptions, frame: pd.DataFrame, reference: str, tau: float) -> None:
    """The batch-128 answer so far, after a round: the table a user who stops now has."""
    table = estimate.answer(frame, reference, tau)
    if not table.empty:
        _log(opts, f"[rounds] throughput over {reference}'s at batch 128 after {int(frame['round'].max())} round(s):")
        _log(opts, "\n".join("    " + line for line in table.to_string().splitlines()))


def _run_engine(opts: RunOptions, root: Path, arms, plan, env: dict, check, keep) -> tuple[rounds.Rounds, dict]:
    """The rounds, with each arm's workers forked from a fork server unless --fresh-processes, and JAX's
    workers staging with its compilation cache; (what the engine returns, each fork server's import seconds)."""
    with ForkServers(log=lambda m: _log(opts, m), fresh=opts.fresh_processes) as forks:

        def start(arm: rounds.Arm, bench: str, env: dict):  # JAX's compile cache: staging only (docs/validation.md)
            return forks(arm, bench, rounds.staging_env(arm, env))

        result = rounds.run_rounds(
            arms,
            plan,
            worker_env(root, opts.threads, env),
            check=check,
            log=lambda m: _log(opts, f"[rounds] {m}"),
            start=start,
            keep=keep,
        )
    return result, {a: round(v, 2) for a, v in forks.imports.items()}
