"""Which benchmarks a run gives asv and which the paired rounds: the --bench filter, the quick set, the
frameworks' chunks, what needs MNIST, and the suites asv would discover."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Protocol

from bench.core.errors import RunError
from bench.workload.benchmarks import BENCHMARKS, PAIRED


class Selecting(Protocol):
    """What selection reads of a run's options (bench.tasks.run.RunOptions)."""

    bench: str | None
    quick: bool


QUICK_LEAVES_OUT = ("variants", "accuracy", "memory", "baseline")  # suites a quick run leaves to the full run
# unless --bench names them: the quick question is the train and predict ratios. The first three took most of
# its asv part (training to accuracy, a peak-memory process per framework); the baseline (the minimal loop and
# the host matmul, timed after the train step in each process, so nothing before a train or predict sample
# changes) took half of each round's timed samples (docs/validation.md, "What a quick run's asv part costs",
# "A quick run's rounds")


def chunk_regex(framework: str, device: str, user: str | None = None, quick: bool = False, exclude: str = "") -> str:
    """asv matches --bench against 'name(param, ...)': one framework+device, and the user's regex.
    Quick runs leave QUICK_LEAVES_OUT out unless the user's regex asks for them."""
    return "^" + rf"(?=.*\('{re.escape(framework)}', '{re.escape(device)}'[,)])" + asv_filters(user, quick, exclude)


def asv_filters(user: str | None, quick: bool, exclude: str = "") -> str:
    """The lookaheads chunk_regex adds after the framework and device: the user's regex, quick's
    and the caller's exclusions."""
    parts = [f"(?=.*(?:{user}))"] if user else []
    if quick:
        parts += [rf"(?!{suite}\.)" for suite in QUICK_LEAVES_OUT if not (user and suite in user)]
    return "".join(parts) + exclude


NEEDS_DATA = r"Accuracy\."  # accuracy.Accuracy, variants.PrecisionAccuracy and SequenceAccuracy train on MNIST


def selected(names: list[str], opts: Selecting, exclude: str = "") -> list[str]:
    """The suite's benchmark names this run's --bench and --quick select (as asv will)."""
    pattern = re.compile("^" + asv_filters(opts.bench, opts.quick, exclude))
    return [n for n in names if pattern.search(n)]


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


ASV_EXCLUDE = rf"(?!{PAIRED})"  # what asv itself then leaves out
QUICK_KEYS = r"(128)?"  # a quick run times batch 128 (and the unparametrised host matmul) only: more rounds
# in its minutes, so its ratios can be decided to ±8%
BUDGET = 2400.0  # seconds of a full run's paired rounds (--budget)
QUICK_RUN = 600.0  # seconds of a whole quick run, asv's part included: its rounds get what is left of it
ASV_RESERVE = 60.0  # ... less this, kept for a quick run's asv part (cold start alone: 36 s measured here)


def rounds_budget(quick: bool, asked: float | None, spent: float) -> float:
    """Seconds the paired rounds may take: `asked` (--budget) where given; a full run's BUDGET; for a
    quick run, what is left of QUICK_RUN after the `spent` seconds before its rounds and ASV_RESERVE.
    The rounds stop once the next would not fit (adaptive rounds take stats.MIN_ROUNDS whatever it says)."""
    if asked is not None:
        return asked
    return max(0.0, QUICK_RUN - spent - ASV_RESERVE) if quick else BUDGET


ALTERNATIONS = {False: 8, True: 6}  # samples of each benchmark per framework and round, full / quick: a round
# stages in 15-20 s (quick) or 30-38 s (full), and these keep 66-68% (quick) and 73% (full) of it in timed
# samples, and a quick run's 6 rounds of five frameworks within 10 minutes (docs/validation.md)


KEY_GROUPS = (r"32", r"(128)?", r"1024")  # a full run's batch sizes, each in processes of its own every round
# (the unparametrised host matmul with 128): a user's process trains at one batch size, and one that ran
# batch 1024 first ran Keras on PyTorch's batch 128 in glibc's other threshold state (docs/findings.md)


def key_groups(opts: Selecting) -> tuple[str, ...]:
    """How a run's rounds split keys among processes: a quick run times one key (QUICK_KEYS, one
    process); a full run of the throughput and baseline suites gives each batch size its own; a run that
    selects the variants keeps one process for every key (their ratios to the default variant are paired
    within the same process), so its batch sizes share one process."""
    if opts.quick:
        return ()
    pattern = re.compile(paired_pattern(opts))
    if any(pattern.search(name) for name in BENCHMARKS if name.startswith("variants.")):
        return ()
    return KEY_GROUPS


def paired_pattern(opts: Selecting) -> str:
    """The engine's benchmark regex: PAIRED, narrowed by --bench and by what a quick run leaves out
    (asv_filters, the one rule for both parts of a run)."""
    return "^" + asv_filters(opts.bench, opts.quick) + PAIRED
