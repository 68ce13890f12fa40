"""What the commands share: argument types that explain what they expect, the options several commands
take, the environment check, and the one user-error type (exit 2)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from bench.core.errors import RunError
from bench.core.repo import find_root
from bench.measure.stats import THRESHOLD
from bench.tasks.compare import DEFAULT_BENCH, CompareOptions
from bench.tasks.host import identify_host
from impls import DEVICES, FRAMEWORKS
from impls.config import ACCURACY_SEEDS, EPOCHS, QUICK_EPOCHS, SEQUENCE_EPOCHS
from impls.threads import usable_cores

EPILOG = """examples:
  seqmnist-bench train --framework torch --epochs 5 --data-dir ../shared/data/mnist
  seqmnist-bench run --quick
  seqmnist-bench report
  seqmnist-bench compare main HEAD --frameworks torch
  seqmnist-bench bisect v1.0 main --frameworks torch --bench TrainStep
  seqmnist-bench noise --frameworks torch --rounds 10

environment:
  SEQMNIST_DATA_DIR         MNIST folder (as --data-dir)
  SEQMNIST_THREADS          CPU threads per framework (as --threads)
  SEQMNIST_ACCURACY_EPOCHS  epochs of the accuracy and precision-accuracy benchmarks (default {EPOCHS}; {QUICK_EPOCHS} with --quick)
  SEQMNIST_SEQUENCE_EPOCHS  epochs of the 784-step pixel/permuted accuracy benchmarks (default {SEQUENCE_EPOCHS})
  SEQMNIST_ACCURACY_SEEDS   seeds behind each accuracy of the accuracy suite (default {ACCURACY_SEEDS}; 1 with --quick)

exit status:
  0    done (run: every benchmark ran; compare: no regression and nothing failed at HEAD)
  1    run: a benchmark failed; compare: a regression, or a benchmark that fails at HEAD;
       report --fail-on-regression: a regression or a failure at the head revision;
       report --fail-on-change-point: the newest commit starts a worse step;
       bisect: not pinned to one commit within --max-steps
  2    not a verdict: bad input (arguments, environment variables, data, revisions, nothing to
       measure; bisect: BAD not slower than GOOD), another measuring command in this checkout
       (its lock), a stored file that cannot be read, a fault of the machine, or a bug: one line
  130  interrupted (Ctrl-C or SIGTERM); what finished is kept and named
"""
EPILOG = EPILOG.format(
    EPOCHS=EPOCHS, QUICK_EPOCHS=QUICK_EPOCHS, SEQUENCE_EPOCHS=SEQUENCE_EPOCHS, ACCURACY_SEEDS=ACCURACY_SEEDS
)
EPOCH_VARIABLES = ("SEQMNIST_ACCURACY_EPOCHS", "SEQMNIST_SEQUENCE_EPOCHS", "SEQMNIST_ACCURACY_SEEDS")


class UsageError(RunError):
    """Bad arguments or state the user can fix: printed without a traceback, exit status 2."""


class Unique(argparse.Action):
    """A list option whose repeats are merged, first order kept: `--devices cpu cpu` is one device (two
    arms of one key would wait on one worker)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, list(dict.fromkeys(values)))


def folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: give a folder (or leave the option out for the default)")
    return text


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=folder,
        help="folder with the four MNIST IDX files (.gz or raw); default $SEQMNIST_DATA_DIR, "
        "else ~/.cache/seqmnist-bench/mnist (downloaded when online)",
    )


def add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=threads,
        help="CPU threads for every framework, at most the cores this process may use (default: all of them)",
    )


def number(text: str, kind=int):
    """int(text) or float(text), or an argparse error that says what was expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None


def positive(text: str) -> int:
    value = number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def threads(text: str) -> int:
    value = positive(text)
    if value > usable_cores():
        raise argparse.ArgumentTypeError(
            f"{value} threads but this process may use {usable_cores()} core(s): "
            "more threads than cores measures contention, not the frameworks"
        )
    return value


def seed(text: str) -> int:
    value = number(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in 0..{2**32 - 1} (every framework's seed range), got {value}")
    return value


def regex(text: str) -> str:

    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({exc})") from None
    return text


def check_environment() -> None:
    """The SEQMNIST_* variables the benchmarks read, checked before anything starts."""
    for name in EPOCH_VARIABLES + ("SEQMNIST_THREADS",):
        text = os.environ.get(name, "").strip()
        if not text:
            continue
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise UsageError(f"{name}={text!r}: must be a positive integer")
        if name == "SEQMNIST_THREADS" and value > usable_cores():
            raise UsageError(f"SEQMNIST_THREADS={value}: more than the {usable_cores()} core(s) this process may use")


def add_measure_args(p: argparse.ArgumentParser, quick_help: str) -> None:
    """What `run` measures, and where the results are stored (`quick_help`: what --quick changes)."""
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--frameworks", nargs="+", action=Unique, choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--devices", nargs="+", action=Unique, choices=DEVICES, default=list(DEVICES))
    p.add_argument(
        "--bench",
        metavar="REGEX",
        type=regex,
        help="only benchmarks whose asv name matches, e.g. 'TrainStep' (none matching: exit 2)",
    )
    p.add_argument("--machine", help="machine name the results are stored under (default: host name)")
    add_data_dir(p)
    add_threads(p)


def add_paired_args(p: argparse.ArgumentParser) -> None:
    """What `compare` and `noise` measure."""

    p.add_argument("--frameworks", nargs="+", action=Unique, choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument(
        "--devices",
        nargs="+",
        action=Unique,
        choices=DEVICES,
        default=["cpu"],
        help="devices to measure (default cpu; add gpu on a GPU machine)",
    )
    p.add_argument(
        "--bench",
        metavar="REGEX",
        default=DEFAULT_BENCH,
        type=regex,
        help=f"asv time benchmarks to measure, by full name (default {DEFAULT_BENCH!r})",
    )
    p.add_argument(
        "--threshold",
        type=fraction,
        default=THRESHOLD,
        help=f"smallest change a verdict calls: the interval must lie wholly beyond it (default {THRESHOLD})",
    )
    add_params(p)
    p.add_argument("--machine", help="machine name the results are kept under (default: host name)")
    p.add_argument("--seed", type=seed, default=None, help="seed of the random side order (default: from the clock)")
    add_threads(p)
    add_fresh_processes(p)


def add_fresh_processes(p: argparse.ArgumentParser) -> None:
    """Whether paired rounds fork their workers from a fork server per arm (run, compare, noise)."""
    p.add_argument(
        "--fresh-processes",
        action="store_true",
        help="start every round's worker as a new interpreter that imports its framework again; by default a "
        "framework shown to measure the same forked (impls: PRELOAD) gets a fork server per round's arm that "
        'imports it once, each worker a new process forked from it (docs/validation.md, "Forked workers")',
    )


def add_params(p: argparse.ArgumentParser) -> None:
    """Which parameter combinations the paired rounds time (compare, noise, bisect)."""
    p.add_argument(
        "--params",
        metavar="REGEX",
        dest="keys",
        type=regex,
        help="parameters besides framework and device to measure, matched whole as the tables write them: "
        "'128', '32|128', 'fused, bf16' (default: every combination)",
    )


def non_negative(text: str) -> int:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    value = number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def fraction(text: str) -> float:
    value = number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def add_threshold(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threshold",
        type=fraction,
        default=THRESHOLD,
        help=f"relative change that counts as a regression or improvement (default {THRESHOLD})",
    )


def add_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results", help="asv results folder (default: results/asv of the checkout holding the current folder)"
    )
    p.add_argument("--out", help="report folder (default: 'report' beside the results folder, i.e. results/report)")
    p.add_argument("--base", help="base revision (default: the previous commit with results on the machine)")
    p.add_argument("--head", help="head revision (default: the newest commit with results on the machine)")
    p.add_argument("--machine", help="machine to compare on (required when results hold several)")
    add_threshold(p)
    p.add_argument("--fail-on-regression", action="store_true", help="exit 1 when any regression is found")


def paired_options(args: argparse.Namespace, **extra):

    return CompareOptions(
        base=getattr(args, "base", "HEAD"),
        head=getattr(args, "head", "HEAD"),
        frameworks=tuple(args.frameworks),
        devices=tuple(args.devices),
        bench=args.bench,
        threshold=args.threshold,
        threads=args.threads,
        seed=args.seed if args.seed is not None else int(time.time()),
        keys=args.keys,
        fresh_processes=args.fresh_processes,
        root=find_root(Path.cwd()),
        **extra,
    )


def host(args: argparse.Namespace, root, claim: bool = True) -> tuple[str, dict]:
    """(machine key, fingerprint) for results measured here (bench.tasks.host.identify_host, as `run`); with
    `claim` false nothing is stored (the command claims the key when it stores results)."""

    key, fp, _ = identify_host(root, args.machine, args.threads, log=lambda m: print(m, file=sys.stderr), claim=claim)
    return key, fp
