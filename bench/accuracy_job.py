"""One accuracy run (train on MNIST, evaluate as it goes) in its own process; prints JSON.

The accuracy suite's setup_cache starts one of these per framework and device, so the asv
process never holds a framework and both accuracy metrics come from the same training run.
"""
from __future__ import annotations

import argparse
import json
import sys

TARGET = 0.97  # time-to-accuracy threshold
EVAL_EVERY = 100  # steps between test evaluations (time to accuracy resolution)


def run(framework: str, device: str, epochs: int, seed: int = 0, data_dir: str | None = None) -> dict:
    """Train and return accuracy, time to TARGET and the evaluation history; or {'skip': why}."""
    import impls
    from bench.data import DataError, load_mnist
    from bench.train import train

    try:
        data = load_mnist(data_dir)
        model = impls.load(framework)(impls.LSTMConfig(), device=device, seed=seed)
    except (DataError, impls.FrameworkUnavailable, impls.DeviceUnavailable) as exc:
        return {"skip": str(exc)}
    result = train(model, data, epochs=epochs, seed=seed, eval_every=EVAL_EVERY, progress=False)
    return {
        "framework": framework,
        "device": device,
        "epochs": epochs,
        "data": data.describe(),
        "test_accuracy": result.test_accuracy,
        "time_to_accuracy": result.time_to_accuracy(TARGET),
        "target": TARGET,
        "train_seconds": result.train_seconds,
        "history": [vars(p) for p in result.history],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--framework", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    json.dump(run(args.framework, args.device, args.epochs, args.seed, args.data_dir), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
