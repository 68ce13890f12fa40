"""The paired-rounds engine: the one implementation of "a round" behind `run`, `compare` and `noise`.

A round starts one fresh worker process per arm (a revision tree x framework x device), all alive
together, and times each benchmark on every arm that has it in `alternations` passes. Two arms
(compare's base and head) alternate ABBA; with a reference arm and more, each pass brackets every
other arm's sample between two of the reference's (R A R B R C R, the others in random order), so
each ratio pairs samples a fraction of a second apart and drift of the machine, which this box shows
as seconds-long swings of 5-12% within one process, cancels. The process is the unit of replication:
each round's processes are new.

Before a sample of one arm, the engine waits until the arm sampled just before it has stopped using
the CPU (its idle threads' spin-wait: PyTorch's OpenMP pool burns ~10 ms after every call on this box
and slows the next process's sample by ~6%, docs/findings.md). Every sample records which arm ran
just before it and how long before, so estimate.carryover can check that nothing is left.
"""

from __future__ import annotations

import json
import math
import random
import select
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.measure import stats
from bench.measure.client import Worker, WorkerError
from bench.measure.sampler import Sampler, Spent, WorkerLike, busy_rounds, host_steal, outside_cpu
from bench.store.record import Measurement, frame_of, key_of, params_of
from impls.threads import usable_cores


@dataclass(frozen=True)
class Arm:
    """One contestant of every round: a checkout (revision) measured for one framework and device."""

    name: str  # "torch:cpu" in a run, "base" / "head" in a compare, "torch:cpu@jemalloc" in the open division
    tree: Path
    framework: str
    device: str
    env: tuple[tuple[str, str], ...] = ()  # an open-division setting's environment (closed rows: none)


@dataclass
class Plan:
    """How rounds are taken and when they stop."""

    bench: str  # regex on the asv benchmark name (time benchmarks only)
    sample_time: float = 0.15  # each sample lasts at least this long
    alternations: int = 4  # samples per arm per benchmark per round, in ABC CBA order
    min_rounds: int = stats.MIN_ROUNDS
    max_rounds: int = 60
    budget: float = math.inf  # seconds of rounds; checked after min_rounds
    seed: int = 0
    same_number: bool = False  # every arm makes the same number of calls per sample (compare)
    min_arms: int = 1  # stop when fewer arms than this still run after round 1
    keys: str | None = None  # regex the parameters other than framework and device must match (a quick
    # run times batch 128 only); None: every combination
    key_groups: tuple[str, ...] = ()  # regexes that split the keys: each group gets fresh processes of its
    # own in every round (a user's process trains at one batch size: a batch-1024 step run first changes
    # glibc's malloc thresholds for the batch-128 one, docs/findings.md); (): one process for every key
    reference: str | None = None  # with three arms or more: every other arm's sample is taken between
    # two of this arm's (R A R B R ...), so each ratio is paired with the reference next to it in time
    settle: float = 0.05  # before a sample, wait (at most this long) until the previous arm's process is
    # idle; 0: no wait (only to measure the carry-over it prevents)
    stage_timeout: float = 900.0  # seconds a worker may take to stage (import, build, compile) in round 1;
    # later, STAGE_MARGIN times the longest its framework took before (at least MIN_STAGE_LIMIT), never more
    stage_at_once: int = 0  # workers staging (import, build, compile) at the same time; 0: one per core
    # this process may use (more only contend for them; docs/validation.md, "Staging")
    one_at_a_time: bool = False  # each arm's worker stages and takes its samples with no other worker alive
    # (started once the one before it has exited), the arms in random order per round: each framework as a
    # user's own process runs it. A round's ratio is then the two processes' (estimate.round_log_ratios);
    # samples of different arms are never interleaved (docs/validation.md, "One process at a time")


@dataclass
class Rounds:
    """Every round an engine run took, why it stopped, and where its wall time went."""

    frame: pd.DataFrame
    wall_seconds: float
    stopped: str
    arms: list[str] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C or SIGTERM: `frame` holds the rounds that finished
    phases: dict[str, float] = field(default_factory=dict)  # PHASES' seconds summed over rounds
    staged: dict[str, dict[str, float]] = field(default_factory=dict)  # arm -> its workers' own import and
    # setup seconds, summed over rounds (they stage side by side: these overlap in wall time)
    steal: dict[int, float] = field(default_factory=dict)  # round -> the host's steal seconds during it
    # (empty where the kernel does not say): time the VM's CPUs lost to the hypervisor
    outside: dict[int, float] = field(default_factory=dict)  # round -> CPU seconds processes outside the run
    # used during it (sampler.outside_cpu; empty where the kernel does not say)
    walls: dict[int, float] = field(default_factory=dict)  # round -> its wall seconds

    @property
    def efficiency(self) -> float:
        """The share of the rounds' wall time spent inside timed samples."""
        return self.phases.get("sampling", 0.0) / self.wall_seconds if self.wall_seconds > 0 else math.nan


Starter = Callable[[Arm, str, dict], WorkerLike]

# Environment settings that change a timed value (the allocator, a preloaded library, a framework's
# compiler flags): a closed-division worker never gets them, whatever the user's shell holds, so each
# framework runs as a plain process with the C library's and its own defaults. An open-division arm
# sets them on purpose (Arm.env; bench/measure/settings.py declares the allocator's search space).
STABILIZERS = ("LD_PRELOAD", "GLIBC_TUNABLES", "XLA_FLAGS", "TF_XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS")
STABILIZER_PREFIXES = ("MALLOC_",)  # glibc's MALLOC_*_ variables (thresholds, arenas, top pad)


def stabilizers(env: dict) -> list[str]:
    """The variables of `env` a closed-division worker is started without."""
    return sorted(k for k in env if k in STABILIZERS or k.startswith(STABILIZER_PREFIXES))


def closed_env(env: dict) -> dict:
    """`env` without any setting that changes a timed value (STABILIZERS): a plain process's environment."""
    dropped = set(stabilizers(env))
    return {k: v for k, v in env.items() if k not in dropped}


def arm_env(arm: Arm, env: dict) -> dict:
    """What `arm`'s worker is started with: the plain process's environment, plus the arm's own
    open-division setting (none for a closed row)."""
    return {**closed_env(env), **dict(arm.env)}


COMPILE_CACHED = ("jax",)  # frameworks whose workers stage with JAX's compilation cache: shown to measure
# the same as compiling ones, 24 rounds (docs/validation.md, "JAX's compilation cache"); Keras on JAX was
# not (its train step 3.0% [0.5%, 5.9%] faster cached), so its workers compile their own programs


def compile_cache(env: dict) -> dict[str, str]:
    """JAX's persistent compilation cache (every round's fresh processes compile the same programs): it
    keys an executable by its program, versions, backend and options. Staging only; asv's cold start
    never sees it. A cache folder the user set stays theirs."""
    home = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "seqmnist-bench"
    cache = {"JAX_COMPILATION_CACHE_DIR": str(home / "jax"), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    return {k: env.get(k, v) for k, v in cache.items()}


def staging_env(arm: Arm, env: dict) -> dict:
    """`env` for `arm`'s worker with what only shortens its staging (COMPILE_CACHED)."""
    return {**env, **compile_cache(env)} if arm.framework in COMPILE_CACHED else env


def start_worker(arm: Arm, bench: str, env: dict) -> Worker:
    return Worker(arm.tree, arm.framework, arm.device, bench, env)


def run_rounds(
    arms: list[Arm],
    plan: Plan,
    env: dict,
    check: Callable[[pd.DataFrame, int], str | None] | None = None,
    start: Starter = start_worker,
    log: Callable[[str], None] = lambda m: None,
    steal: Callable[[], float | None] = host_steal,
    keep: Callable[[pd.DataFrame], None] | None = None,
    outside: Callable[[], float | None] = outside_cpu,
) -> Rounds:
    """Rounds until `check` (called from min_rounds on) gives a reason to stop, the budget or
    max_rounds ends, or too few arms still run. Arms with nothing that ran in round 1 are dropped.
    `keep` gets every finished round's rows so far the moment the round ends (the caller stores them).
    An interrupt anywhere ends the rounds with those that finished (the round under way is dropped: it
    would pair arms that did not all run), `interrupted` set."""
    rng = random.Random(plan.seed)
    rows: list[Measurement] = []
    started = time.monotonic()
    spent = Spent()  # every round's time, summed; it carries the last round's workers, still exiting
    stolen: dict[int, float] = {}  # round -> the host's steal seconds during it
    clock = _Clock(steal, outside)

    def result(stopped: str, interrupted: bool = False) -> Rounds:
        wall, names = time.monotonic() - started, [a.name for a in arms]
        return Rounds(
            frame_of(rows), wall, stopped, names, interrupted, spent.totals(), spent.staged, stolen,
            clock.outside, clock.walls,
        )  # fmt: skip

    try:
        stopped = _rounds(arms, plan, env, check, start, log, clock, keep, rng, rows, spent, stolen, started)
        spent.reap()
    except KeyboardInterrupt:
        spent.reap(interrupted=True)
        done = len({r.round for r in rows})
        log(f"interrupted: the {done} round(s) that finished are kept")
        return result(f"interrupted after {done} round(s)", interrupted=True)
    return result(stopped)


def _rounds(
    arms: list[Arm],
    plan: Plan,
    env: dict,
    check: Callable[[pd.DataFrame, int], str | None] | None,
    start: Starter,
    log: Callable[[str], None],
    clock: _Clock,
    keep: Callable[[pd.DataFrame], None] | None,
    rng: random.Random,
    rows: list[Measurement],
    spent: Spent,
    stolen: dict[int, float],
    started: float,
) -> str:
    """The rounds themselves (run_rounds' loop): rows, spent and stolen filled in place; why they stopped."""
    active = list(arms)
    for round_no in range(1, plan.max_rounds + 1):
        round_start, so_far = time.monotonic(), dict(spent.phases)
        clock.start()
        done = one_round(active, plan, env, round_no, rng, start, spent)
        rows += done  # only a whole round: an interrupt inside it leaves `rows` as it was
        if keep is not None:
            keep(frame_of(rows))
        clock.stop(round_no, stolen)
        this_round = {k: v - so_far.get(k, 0.0) for k, v in spent.phases.items()}
        frame = frame_of(rows)
        if round_no == 1:
            ran = set(frame[frame.status == "ok"].arm)
            active = [a for a in active if a.name in ran]
            if len(active) < max(plan.min_arms, 1):
                return "nothing to time after round 1: " + _first_reasons(frame)
        elapsed = time.monotonic() - started
        said = (
            f"round {round_no}/{plan.min_rounds if round_no < plan.min_rounds else plan.max_rounds}: "
            f"{elapsed:.0f} s (this round: staging {this_round.get('staging', 0):.0f} s, timed samples "
            f"{this_round.get('sampling', 0):.0f} s of {time.monotonic() - round_start:.0f} s"
            + (f"; host steal {stolen[round_no]:.1f} s" if round_no in stolen else "")
            + ")"
            + (
                f"; other processes used {clock.outside[round_no]:.1f} CPU-s: this round ran beside other work"
                if round_no in busy_rounds(clock.outside, clock.walls)
                else ""
            )
        )
        if round_no < plan.min_rounds:
            log(said)
            continue
        why = check(frame, round_no) if check else None
        log(said + (f"; {why}" if why else ""))
        if why:
            return why
        if elapsed + (time.monotonic() - round_start) > plan.budget:
            return f"time budget of {plan.budget:.0f} s spent after {round_no} rounds"
    return f"{plan.max_rounds} rounds (the most allowed)"


class _Clock:
    """Each round's wall time, the host's steal during it and the CPU time processes outside the run used."""

    def __init__(self, steal: Callable[[], float | None], outside: Callable[[], float | None]):
        self.steal, self.read_outside = steal, outside
        self.outside: dict[int, float] = {}
        self.walls: dict[int, float] = {}

    def start(self) -> None:
        self.began, self.steal_before, self.outside_before = time.monotonic(), self.steal(), self.read_outside()

    def stop(self, round_no: int, stolen: dict[int, float]) -> None:
        steal_after, outside_after = self.steal(), self.read_outside()
        self.walls[round_no] = time.monotonic() - self.began
        if self.steal_before is not None and steal_after is not None:
            stolen[round_no] = steal_after - self.steal_before
        if self.outside_before is not None and outside_after is not None:
            self.outside[round_no] = max(0.0, outside_after - self.outside_before)


def _first_reasons(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "no benchmark matched"
    reasons = [r for r in frame.reason.astype(str) if r.strip()]
    return reasons[0].strip().splitlines()[-1][:300] if reasons else "every benchmark skipped"


def pair_key(job: dict) -> str:
    """What arms are paired on: a job's parameters other than framework and device (record.key_of)."""
    return key_of(job.get("param_names") or [], job["params"])


def staging_order(arms: list[Arm], staged: dict[str, dict[str, float]], rng: random.Random) -> list[Arm]:
    """The order workers start staging in: the slowest to stage in earlier rounds first (`staged`: each
    arm's import and setup seconds so far), so the last to finish is a fast one; random among equals
    (every arm in round 1)."""
    order = list(arms)
    rng.shuffle(order)
    return sorted(order, key=lambda a: -sum(staged.get(a.name, {}).values()))


STAGE_MARGIN = 5.0  # a worker stuck while staging is given up after this many times its framework's slowest
MIN_STAGE_LIMIT = 60.0  # staging so far, and never sooner than this (a slow spell of the machine is no hang)


def stage_limit(arm: Arm, plan: Plan, spent: Spent) -> float:
    """How long `arm`'s worker may take to reply to a staging request: Plan.stage_timeout until its
    framework has staged once, then STAGE_MARGIN times its slowest staging so far (at least
    MIN_STAGE_LIMIT), never more than Plan.stage_timeout. A hung import fails its row, not the run."""
    seen = spent.slowest_stage.get(arm.name)
    if seen is None:
        return plan.stage_timeout
    return min(plan.stage_timeout, max(MIN_STAGE_LIMIT, STAGE_MARGIN * seen))


def first_replied(staging: list[Arm], workers: dict[str, WorkerLike], deadlines: dict[str, float]) -> Arm:
    """The first of the staging arms whose worker has replied (select() on their pipes), or, when none
    replies before the earliest deadline, the arm whose deadline that is; the first started where a
    worker has no pipe to wait on (the tests' fakes reply when asked)."""
    waiting: list[Any] = [workers[a.name] for a in staging]  # select() takes anything with fileno()
    if not all(hasattr(w, "fileno") for w in waiting):
        return staging[0]
    due = min(staging, key=lambda a: deadlines[a.name])
    ready, _, _ = select.select(waiting, [], [], max(0.0, deadlines[due.name] - time.monotonic()))
    return next((a for a, w in zip(staging, waiting) if w in ready), due)  # none: its receive() times out


def one_round(
    arms: list[Arm],
    plan: Plan,
    env: dict,
    round_no: int,
    rng: random.Random,
    start: Starter = start_worker,
    spent: Spent | None = None,
) -> list[Measurement]:
    """Fresh workers for every arm (staged a few at a time, the slowest first), then every benchmark
    timed on all arms that have it, in alternating passes; with Plan.one_at_a_time, one arm's worker at a
    time, staged and timed alone, in random order. A worker stages in parts where its
    benchmarks ask for it (worker.py: predict before anything trains in the process, the host matmul
    last): each part is timed on every arm before the next is staged. With Plan.key_groups, each group of keys gets
    fresh workers of its own, in random order. `spent` gets where the time went."""
    spent = Spent() if spent is None else spent
    groups: list[str | None] = [*plan.key_groups] or [plan.keys]
    rng.shuffle(groups)
    rows: list[Measurement] = []
    for keys in groups:  # each group of keys in processes of its own
        if not plan.one_at_a_time:
            rows += _processes(arms, plan, keys, env, round_no, rng, start, spent)
            continue
        for arm in rng.sample(arms, len(arms)):
            rows += _processes([arm], plan, keys, env, round_no, rng, start, spent)
            spent.reap()  # it has exited before the next one starts: nothing else alive
    return rows


def _processes(
    arms: list[Arm],
    plan: Plan,
    keys: str | None,
    env: dict,
    round_no: int,
    rng: random.Random,
    start: Starter,
    spent: Spent,
) -> list[Measurement]:
    """One fresh worker per arm for the keys `keys` matches (None: every key): staged, timed, told to quit."""
    order = staging_order(arms, spent.staged, rng)
    setup = {"op": "setup", **({"keys": keys} if keys else {})}
    workers: dict[str, WorkerLike] = {}
    rows: list[Measurement] = []
    arm_of = {a.name: a for a in arms}
    try:
        began = time.monotonic()
        jobs, later = _stage(
            order, plan, round_no, setup, workers, lambda a: start(a, plan.bench, arm_env(a, env)), spent, rows
        )
        spent.add("staging", time.monotonic() - began)
        spent.reap()  # the previous round's processes have exited before any sample is taken
        sampler = Sampler(workers, plan.settle, spent)
        rows += _time_all(sampler, arm_of, order, jobs, plan, round_no, rng)
        while later:  # each next part, staged only now: after the samples of the parts before it
            began = time.monotonic()
            part, later = _stage(later, plan, round_no, {"op": "setup_next"}, workers, None, spent, rows)
            spent.add("staging", time.monotonic() - began)
            rows += _time_all(sampler, arm_of, order, part, plan, round_no, rng)
    except BaseException:  # Ctrl-C or SIGTERM: no worker outlives the round
        for worker in workers.values():
            worker.close(interrupted=True)
        spent.reap(interrupted=True)
        raise
    for worker in workers.values():  # told now, waited for after the next round's staging
        worker.send({"op": "quit"})
    spent.quitting += workers.values()
    return rows


def _stage(
    order: list[Arm],
    plan: Plan,
    round_no: int,
    request: dict,
    workers: dict[str, WorkerLike],
    start: Callable[[Arm], WorkerLike] | None,
    spent: Spent,
    rows: list[Measurement],
) -> tuple[dict[str, list[dict]], list[Arm]]:
    """Send `request` to each arm's worker (started first with `start`), at most Plan.stage_at_once
    staging at a time: (each arm's jobs, the arms with a second part to stage later). A worker that
    fails is a failed "(worker)" row in `rows`."""
    queue, staging = list(order), list[Arm]()
    at_once = plan.stage_at_once or usable_cores()
    jobs: dict[str, list[dict]] = {}
    later: list[Arm] = []
    sent: dict[str, float] = {}
    deadlines: dict[str, float] = {}
    while queue or staging:
        while queue and len(staging) < at_once:  # a free core: the next worker starts staging
            arm = queue.pop(0)
            sent[arm.name] = time.monotonic()
            deadlines[arm.name] = sent[arm.name] + stage_limit(arm, plan, spent)
            if start is not None:
                workers[arm.name] = start(arm)
            workers[arm.name].send(request)
            staging.append(arm)
        arm = first_replied(staging, workers, deadlines)
        staging.remove(arm)
        try:
            reply = workers[arm.name].receive(timeout=max(0.0, deadlines[arm.name] - time.monotonic()))
            took = time.monotonic() - sent[arm.name]
            spent.slowest_stage[arm.name] = max(took, spent.slowest_stage.get(arm.name, 0.0))
            jobs[arm.name] = reply["jobs"]
            spent.add_staged(arm.name, reply.get("staged") or {})
            if reply.get("later"):
                later.append(arm)
        except WorkerError as exc:
            rows.append(
                Measurement(
                    arm=arm.name,
                    framework=arm.framework,
                    device=arm.device,
                    benchmark="(worker)",
                    param=0,
                    params="",
                    key="",
                    round=round_no,
                    status="failed",
                    reason=str(exc)[-2000:],
                )
            )
    return jobs, [a for a in order if a in later]


def _time_all(
    sampler: Sampler,
    arm_of: dict[str, Arm],
    order: list[Arm],
    jobs: dict[str, list[dict]],
    plan: Plan,
    round_no: int,
    rng: random.Random,
) -> list[Measurement]:
    """Every benchmark x key of `jobs` timed on all arms that have it, the keys in random order."""
    by_key: dict[tuple[str, str], dict[str, dict]] = {}
    for arm in order:
        for job in jobs.get(arm.name, []):
            by_key.setdefault((job["name"], pair_key(job)), {})[arm.name] = job
    keys = sorted(by_key)
    rng.shuffle(keys)
    rows: list[Measurement] = []
    for key in keys:
        rows += _time_key(sampler, arm_of, by_key[key], plan, round_no, rng)
    return rows


def _measurement(arm: Arm, job: dict, round_no: int, **values) -> Measurement:
    return Measurement(
        arm=arm.name,
        framework=arm.framework,
        device=arm.device,
        benchmark=job["name"],
        param=int(job["param"]),
        params=params_of(job["params"]),
        key=pair_key(job),
        round=round_no,
        unit=job.get("unit") or "seconds",
        version=job.get("version"),
        all_params=json.dumps(job.get("all_params", [])),
        **values,
    )


def _time_key(sampler: Sampler, arm_of, jobs: dict[str, dict], plan: Plan, round_no: int, rng: random.Random):
    """One benchmark x key on every arm that has it: calibrate each arm's calls per sample, then
    `alternations` passes in ABC CBA order (R A R B R ... with a reference); one record per arm."""
    rows = [
        _measurement(arm_of[a], job, round_no, status=job["status"], reason=str(job["reason"])[-2000:])
        for a, job in jobs.items()
        if job["status"] != "ok"
    ]
    ready = {a: job for a, job in jobs.items() if job["status"] == "ok"}
    perm = list(ready)
    rng.shuffle(perm)
    taken = _Taken(sampler, ready, {a: [] for a in perm})
    taken.calibrate(perm, plan)
    ref = plan.reference if plan.reference in ready and len(ready) > 2 else None
    for k in range(plan.alternations):
        if ref is None:  # ABC CBA: sample k of every arm within one pass
            for a in perm if k % 2 == 0 else perm[::-1]:
                taken.take(a)
        else:
            taken.bracketed_pass(ref, [a for a in perm if a != ref], rng)
    return rows + [taken.record(arm_of[a], ready[a], round_no) for a in perm]


@dataclass
class _Taken:
    """One benchmark x key's samples in one round, per arm, as they are taken: each sample's per-call
    time, the arm sampled just before it and the gap since, and with a reference its bracketing samples."""

    sampler: Sampler
    ready: dict[str, dict]  # arm -> its job
    samples: dict[str, list[float]]
    number: dict[str, int] = field(default_factory=dict)  # calls per sample
    failed: dict[str, str] = field(default_factory=dict)  # arm -> why
    brackets: dict[str, list[float]] = field(default_factory=dict)
    after: dict[str, list[str]] = field(default_factory=dict)
    gaps: dict[str, list[float]] = field(default_factory=dict)

    def calibrate(self, perm: list[str], plan: Plan) -> None:
        """~30 ms of calls per arm: the per-call time (and a warm-up after the other arms ran), hence
        the calls per sample; with `same_number`, the first arm's for all."""
        for a in perm:
            job = self.ready[a]
            try:
                probe = max(1, math.ceil(0.03 / max(job["once"] or 1e-6, 1e-7)))
                per_call = self.sampler.time(a, job["job"], probe, phase="calibrating")[0]
            except WorkerError as exc:
                self.failed[a] = str(exc)
                continue
            self.number[a] = max(1, math.ceil(plan.sample_time / max(per_call, 1e-9)))
        if plan.same_number and self.number:
            common = self.number[next(a for a in perm if a in self.number)]
            self.number = {a: common for a in self.number}

    def take(self, a: str) -> float | None:
        """One sample of arm `a`; None where it failed (now or before)."""
        if a in self.failed or a not in self.number:
            return None
        try:
            value, before, gap = self.sampler.time(a, self.ready[a]["job"], self.number[a])
        except WorkerError as exc:
            self.failed[a] = str(exc)
            return None
        self.samples[a].append(value)
        self.after.setdefault(a, []).append(before)
        self.gaps.setdefault(a, []).append(gap)
        return value

    def bracketed_pass(self, ref: str, others: list[str], rng: random.Random) -> None:
        """R A R B R C R: each other arm's sample between two of the reference's, in random order."""
        rng.shuffle(others)
        before = self.take(ref)
        for a in others:
            value = self.take(a)
            after_ref = self.take(ref)
            if value is not None:
                pair = [v for v in (before, after_ref) if v is not None]
                mean = math.exp(statistics.fmean(math.log(v) for v in pair)) if pair else math.nan
                self.brackets.setdefault(a, []).append(mean)
            before = after_ref

    def record(self, arm: Arm, job: dict, round_no: int) -> Measurement:
        a = arm.name
        if a in self.failed:
            return _measurement(arm, job, round_no, status="failed", reason=self.failed[a][-2000:])
        return _measurement(
            arm,
            job,
            round_no,
            value=statistics.fmean(self.samples[a]),
            samples=tuple(self.samples[a]),
            number=self.number[a],
            bracket=tuple(self.brackets.get(a, [])),
            after=tuple(self.after.get(a, [])),
            gap=tuple(self.gaps.get(a, [])),
        )
