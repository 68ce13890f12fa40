"""What the asv suites share: the parameter grid, skip rules, and models staged once per process.

asv calls `setup` before every timed repeat, so building and compiling happen once per process
and the staged model is kept here; repeats then time steady-state work only.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

import impls
from bench.workload import accuracy_job
from impls import DEVICES, FRAMEWORKS
from impls.config import ACCURACY_SEEDS, EPOCHS, SEQUENCE_EPOCHS

BATCH_SIZES = (32, 128, 1024)
WARMUP_STEPS = 3  # the first compiles; the rest settle allocators and caches
MEMORY_STEPS = 20  # train steps the memory benchmarks run after the build


@dataclass
class Staged:
    """A built, compiled model with one batch already on its device."""

    model: object
    x: object
    y: object


_STAGED: dict[tuple, Staged] = {}


def skip(reason: str) -> NoReturn:
    """asv records a NotImplementedError from setup as skipped (n/a), never as failed."""
    raise NotImplementedError(reason)


def runnable(framework: str, device: str, precision: str = "float32"):
    """The framework's model class if it can run on `device` in `precision` here, else an asv
    skip saying why."""

    try:
        cls = impls.load(framework)
    except impls.FrameworkUnavailable as exc:
        skip(str(exc))
    reason = cls.unavailable(device, precision)
    if reason:
        skip(reason)
    return cls


def synthetic_batch(batch_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded uniform pixels and labels: timing does not depend on image content."""
    rng = np.random.default_rng(seed)
    return rng.random((batch_size, 28, 28), dtype=np.float32), rng.integers(0, 10, batch_size)


def staged(
    framework: str,
    device: str,
    batch_size: int = 128,
    variant: str = "fused",
    sequence: str = "row",
    hidden: int = 128,
    precision: str = "float32",
    train: bool = True,
) -> Staged:
    """Build, compile and warm up (WARMUP_STEPS train steps and forward passes; forward passes only with
    `train` False, as a user's inference process does) once per process, for every timed suite; later
    calls return the same staged model, or an asv skip saying why it cannot run."""

    key = (framework, device, batch_size, variant, sequence, hidden, precision, train)
    if key not in _STAGED:
        if variant not in impls.VARIANTS[framework]:
            skip(f"{framework} has no {variant!r} variant")
        runnable(framework, device, precision)
        config = impls.sequence_config(sequence, n_hidden=hidden)
        model = impls.load(framework, variant)(config, device=device, seed=0, precision=precision)
        x, y = synthetic_batch(batch_size)
        x, y = model.to_device(*model.check_batch(x.reshape(batch_size, config.n_steps, config.n_input), y))
        for _ in range(WARMUP_STEPS):
            if train:
                model.synchronize(model.step_on_device(x, y))
            model.synchronize(model.forward_on_device(x))
        _STAGED[key] = Staged(model, x, y)
    return _STAGED[key]


def accuracy_epochs() -> int:
    """Training budget of the accuracy benchmarks: $SEQMNIST_ACCURACY_EPOCHS, default 5."""
    return int(os.environ.get("SEQMNIST_ACCURACY_EPOCHS") or EPOCHS)


def sequence_epochs() -> int:
    """Training budget for the 784-step sequences: $SEQMNIST_SEQUENCE_EPOCHS, default 1 (an epoch
    is ~5 minutes per framework on 2 CPU cores; published results train for 100+ epochs on GPUs)."""
    return int(os.environ.get("SEQMNIST_SEQUENCE_EPOCHS") or SEQUENCE_EPOCHS)


def accuracy_targets() -> list[tuple[str, str]]:
    """(framework, device) pairs to train: $SEQMNIST_ACCURACY_RUNS ('torch:cpu,jax:gpu'), else all.
    The runner sets it per asv chunk, so setup_cache trains only what that chunk reports."""
    spec = os.environ.get("SEQMNIST_ACCURACY_RUNS", "").strip()
    if not spec:
        return [(f, d) for f in FRAMEWORKS for d in DEVICES]
    pairs = [item.split(":", 1) for item in spec.split(",") if item]
    return [(p[0], p[1] if len(p) > 1 else "") for p in pairs]


def accuracy_seeds() -> int:
    """Seeds behind each accuracy of the accuracy suite: $SEQMNIST_ACCURACY_SEEDS, default 3 (the runner
    sets 1 for --quick)."""
    return int(os.environ.get("SEQMNIST_ACCURACY_SEEDS") or ACCURACY_SEEDS)


def train_runs(epochs: int, mode: str, values, seeds: int = 1, **options) -> dict[str, dict]:
    """setup_cache body: one accuracy job per target, value of `mode` (precision or sequence) and seed
    (0 .. seeds-1), keyed 'framework:device:value' (the seeds combined). With several seeds the per-seed
    values also go to $SEQMNIST_SEED_LOG, from which the runner stores them as the result's samples."""

    runs = {}
    for fw, dev in accuracy_targets():
        for value in values:
            per_seed = [
                accuracy_job.spawn(fw, dev, epochs, **{mode: value}, seed=seed, **options) for seed in range(seeds)
            ]
            runs[f"{fw}:{dev}:{value}"] = combine_seeds(per_seed)
    if seeds > 1 and os.environ.get("SEQMNIST_SEED_LOG"):
        with open(os.environ["SEQMNIST_SEED_LOG"], "a") as log:
            for key, run in runs.items():
                if "seeds" in run:
                    log.write(json.dumps({"key": key, "epochs": epochs, **run["seeds"]}) + "\n")
    return runs


def combine_seeds(per_seed: list[dict]) -> dict:
    """Runs of one target with seeds 0, 1, ... -> one run: test accuracy the median over seeds, time to
    accuracy the median over the seeds that reached it (None unless at least half did), and 'seeds':
    the per-seed test errors and times. A skip or a failure of any seed is the result."""
    bad = next((r for r in per_seed if "skip" in r or "error" in r), None)
    if bad is not None or len(per_seed) == 1:
        return bad if bad is not None else per_seed[0]
    errors = [1.0 - r["test_accuracy"] for r in per_seed]
    times = [r["time_to_accuracy"] for r in per_seed]
    steps = [r.get("steps_to_accuracy") for r in per_seed]
    reached = reached_by_most(times)
    reached_steps = reached_by_most(steps)
    return {
        **per_seed[0],
        "test_accuracy": 1.0 - statistics.median(errors),
        "time_to_accuracy": statistics.median(reached) if reached else None,
        "steps_to_accuracy": statistics.median(reached_steps) if reached_steps else None,
        "seeds": {"test_error": errors, "time_to_accuracy": times, "steps_to_accuracy": steps},
    }


def reached_by_most(times: list) -> list | None:
    """The times of the seeds that reached the target accuracy, or None unless at least half did:
    a time to accuracy is stated only where it describes most seeds."""
    reached = [t for t in times if t is not None]
    return reached if reached and 2 * len(reached) >= len(times) else None


def trained_run(runs: dict, key: str) -> dict:
    """The run for `key` from setup_cache, or an asv skip / error saying why there is none."""
    run = runs.get(key)
    if run is None:
        skip(f"{key} was not selected for training in this run")
    if "skip" in run:
        skip(run["skip"])
    if "error" in run:
        raise RuntimeError(f"accuracy run {key} failed:\n{run['error']}")
    return run


def train_step_flops(config, batch: int = 128) -> float:
    """Matmul FLOPs of one training step: forward 2*B*(I+H)*4H per time step plus the head,
    backward twice the forward (elementwise gate work is left out: it is not matmul-bound)."""
    per_step = 2 * batch * (config.n_input + config.n_hidden) * 4 * config.n_hidden
    forward = config.n_steps * per_step + 2 * batch * config.n_hidden * config.n_classes
    return 3.0 * forward


__all__ = [
    "BATCH_SIZES",
    "DEVICES",
    "FRAMEWORKS",
    "Staged",
    "accuracy_epochs",
    "accuracy_seeds",
    "accuracy_targets",
    "combine_seeds",
    "runnable",
    "sequence_epochs",
    "skip",
    "staged",
    "synthetic_batch",
    "train_runs",
    "train_step_flops",
    "trained_run",
]
