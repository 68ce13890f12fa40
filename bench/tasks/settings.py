"""`seqmnist-bench settings`: the open division's system settings. For each framework, its closed row (a
plain process) and one arm per installed candidate of the search space (bench.measure.settings: glibc's
fixed thresholds, jemalloc, tcmalloc), all alive together in each paired round, every candidate's sample
taken between two of the closed row's, train step and predict at batch 128. Stored as rounds files
under results/settings/ (each framework's rounds the moment they finish) with what was skipped and why;
`report` turns them into each setting's gain with its interval."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core import files
from bench.core.errors import RunError
from bench.core.repo import find_root, git, worker_env
from bench.measure import rounds
from bench.measure.settings import CLOSED, SEARCH_SPACES, Setting, arm_name
from bench.store import layout, rounds_file
from bench.tasks.host import identify_host
from impls import FRAMEWORKS

BENCH = r"^throughput\.(TrainStep|Predict)\."
KEYS = "128"


@dataclass
class SettingsOptions:
    frameworks: tuple[str, ...] = FRAMEWORKS
    space: str = "allocator"
    rounds: int = 6
    machine: str | None = None
    threads: int | None = None
    root: Path = field(default_factory=Path.cwd)


@dataclass
class SettingsSummary:
    machine: str
    commit: str
    rounds_path: Path
    skipped: dict[str, str]  # setting or framework -> why it was not measured
    interrupted: bool = False


def run(
    opts: SettingsOptions, log: Callable[[str], None] = print, start: rounds.Starter = rounds.start_worker
) -> SettingsSummary:
    """Every framework's closed row and its installed candidates in paired rounds, one framework at a time.
    The caller holds the checkout's lock (bench/cli)."""
    if opts.space not in SEARCH_SPACES:
        raise RunError(f"unknown search space {opts.space!r}; known: {', '.join(SEARCH_SPACES)}")
    unknown = [f for f in opts.frameworks if f not in FRAMEWORKS]
    if unknown:
        raise RunError(f"unknown framework {unknown}; frameworks {FRAMEWORKS}")
    root = find_root(opts.root)
    commit = git(root, "rev-parse", "HEAD")
    machine, _, _ = identify_host(root, opts.machine, opts.threads, log=log)
    space = SEARCH_SPACES[opts.space]
    skipped = {s.name: why for s in space if (why := s.missing())}
    for name, why in skipped.items():
        log(f"[settings] skip {name}: {why}")
    chosen = [s for s in space if s.name not in skipped]
    summary = SettingsSummary(machine, commit, layout.settings_file(root, machine, commit, opts.space, ".csv"), skipped)
    _describe(root, summary, opts, space)
    frames: list[pd.DataFrame] = []
    for framework in opts.frameworks:

        def keep(frame: pd.DataFrame) -> None:  # each round stored the moment it finishes
            rounds_file.write(pd.concat([*frames, frame], ignore_index=True), summary.rounds_path)

        result = _framework_rounds(root, framework, chosen, opts, log, start, keep)
        if result.frame.empty or not (result.frame.status == "ok").any():
            summary.skipped[framework] = "nothing ran: " + _reason(result.frame)
            log(f"[settings] {framework}: {summary.skipped[framework]}")
        else:
            frames.append(result.frame)
            rounds_file.write(pd.concat(frames, ignore_index=True), summary.rounds_path)
        _describe(root, summary, opts, space)
        if result.interrupted:
            summary.interrupted = True
            break
    return summary


def _framework_rounds(
    root: Path, framework: str, chosen: list[Setting], opts: SettingsOptions, log, start, keep
) -> rounds.Rounds:
    arms = [rounds.Arm(arm_name(framework, "cpu", s), root, framework, "cpu", env=s.env) for s in chosen]
    plan = rounds.Plan(
        bench=BENCH,
        keys=KEYS,
        min_rounds=opts.rounds,
        max_rounds=opts.rounds,
        alternations=4,
        sample_time=0.15,
        seed=int(time.time()),
        reference=arm_name(framework, "cpu", CLOSED),
    )
    log(
        f"[settings] {framework}: {len(arms)} processes per round ({', '.join(s.name for s in chosen)}), {opts.rounds} rounds"
    )
    return rounds.run_rounds(
        arms,
        plan,
        worker_env(root, opts.threads),
        start=start,
        log=lambda m: log(f"[settings] {framework}: {m}"),
        keep=keep,
    )


def _describe(root: Path, summary: SettingsSummary, opts: SettingsOptions, space) -> None:
    """The run's description beside its rounds: the candidates, what was skipped and why."""
    files.write_json(
        layout.settings_file(root, summary.machine, summary.commit, opts.space, ".json"),
        {
            "machine": summary.machine,
            "commit": summary.commit,
            "space": opts.space,
            "settings": {s.name: {"says": s.says, "env": dict(s.env)} for s in space},
            "skipped": summary.skipped,
            "rounds": opts.rounds,
            "frameworks": list(opts.frameworks),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _reason(frame: pd.DataFrame) -> str:
    reasons = [r for r in frame.reason.astype(str) if r.strip()] if len(frame) else []
    return reasons[0].strip().splitlines()[-1][:300] if reasons else "no benchmark matched"


__all__ = ["BENCH", "SettingsOptions", "SettingsSummary", "run"]
