"""`open-division`: every candidate of each framework's search space (its variants) timed against the
framework's closed row in paired rounds (a `run` of the variants benchmark), then each open row that
differs from its closed row profiled as `profile --variant` does. Which candidate wins is the report's
rule (bench.report.open_division.choose), read from what this run stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.core import files
from bench.store.layout import meta_dir
from bench.tasks import profile
from bench.tasks import run as run_task

BENCH = r"^variants\.ImplementationVariants\."
PROFILED_BATCHES = [32, 128, 1024]


@dataclass
class OpenDivisionOptions:
    frameworks: tuple[str, ...]
    devices: tuple[str, ...] = ("cpu",)
    machine: str | None = None
    threads: int | None = None
    processes: int | None = None  # exactly this many paired rounds (None: adaptive)
    max_rounds: int = 40
    budget: float | None = None


def measure(opts: OpenDivisionOptions) -> run_task.RunSummary:
    """The variants benchmark in paired rounds, stored as `run` stores it."""
    return run_task.run_suite(
        run_task.RunOptions(
            frameworks=opts.frameworks,
            devices=opts.devices,
            bench=BENCH,
            machine=opts.machine,
            threads=opts.threads,
            processes=opts.processes,
            max_rounds=opts.max_rounds,
            budget=opts.budget,
        )
    )


def profile_open_rows(
    summary: run_task.RunSummary,
    open_rows: list[tuple[str, str, str]],
    threads: int | None,
    log: Callable[[str], None],
) -> list[str]:
    """Each open row (framework, variant, device) that is not its closed row broken down as `profile
    --variant` does, stored with this commit's breakdowns so the page shows it beside the closed row's.
    Returns the rendered breakdowns, each with where it was stored."""
    fingerprint = files.read_json(meta_dir(summary.root) / summary.machine / "fingerprint.json")
    out = []
    for framework, variant, device in open_rows:
        opts = profile.ProfileOptions(
            frameworks=[framework],
            variant=variant,
            device=device,
            batch_sizes=PROFILED_BATCHES,
            root=summary.root,
            threads=threads,
        )
        found, skipped = profile.run(opts, summary.machine, log=log)
        path = profile.save(summary.root, summary.machine, found, skipped, fingerprint)
        if found:
            out.append(f"{profile.render(found)}\nstored: {path.relative_to(summary.root)}")
    return out
