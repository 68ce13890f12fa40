"""One accuracy run (train on MNIST, evaluate as it goes) in its own process; prints JSON.

The accuracy benchmarks' setup_cache starts one of these per framework, device and mode (spawn),
so the asv process never holds a framework and every metric of a mode comes from one training run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import impls
from bench.workload.data import DataError, load_mnist
from bench.workload.train import train
from impls.config import EPOCHS

TARGET = 0.97  # time-to-accuracy threshold
EVAL_EVERY = 100  # steps between test evaluations (time to accuracy resolution)


def run(
    framework: str,
    device: str,
    epochs: int,
    seed: int = 0,
    data_dir: str | None = None,
    precision: str = "float32",
    sequence: str = "row",
    eval_every: int = EVAL_EVERY,
) -> dict:
    """Train and return accuracy, time to TARGET and the evaluation history; or {'skip': why}.
    eval_every=0 evaluates at the end of each epoch only (long sequences: evaluation is costly)."""

    try:
        data = load_mnist(data_dir)
        config = impls.sequence_config(sequence)
        model = impls.load(framework)(config, device=device, seed=seed, precision=precision)
    except (DataError, impls.FrameworkUnavailable, impls.DeviceUnavailable) as exc:
        return {"skip": str(exc)}
    result = train(
        model, data, epochs=epochs, seed=seed, eval_every=eval_every or None, progress=False, sequence=sequence
    )
    return {
        "framework": framework,
        "device": device,
        "precision": precision,
        "sequence": sequence,
        "epochs": epochs,
        "data": data.published(),
        "test_accuracy": result.test_accuracy,
        "time_to_accuracy": result.time_to_accuracy(TARGET),
        "steps_to_accuracy": result.steps_to_accuracy(TARGET),
        "target": TARGET,
        "train_seconds": result.train_seconds,
        "history": [vars(p) for p in result.history],
    }


def spawn(framework: str, device: str, epochs: int, **options) -> dict:
    """run() in a child process (options as keyword arguments); {'error': ...} if it crashed."""
    cmd = [
        sys.executable,
        "-m",
        "bench.workload.accuracy_job",
        "--framework",
        framework,
        "--device",
        device,
        "--epochs",
        str(epochs),
    ]
    for name, value in options.items():
        cmd += [f"--{name.replace('_', '-')}", str(value)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"error": f"exit {proc.returncode}: {proc.stderr[-2000:]}"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--framework", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir")
    p.add_argument("--precision", default="float32")
    p.add_argument("--sequence", default="row")
    p.add_argument("--eval-every", type=int, default=EVAL_EVERY)
    args = p.parse_args(argv)
    result = run(
        args.framework,
        args.device,
        args.epochs,
        args.seed,
        args.data_dir,
        args.precision,
        args.sequence,
        args.eval_every,
    )
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
