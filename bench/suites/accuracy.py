"""Test accuracy after a fixed budget on real MNIST, and training time to 0.97 accuracy.

Both come from one training run per framework and device, done in setup_cache by a separate
process each (bench.accuracy_job). asv treats lower as better, so accuracy is stored as the
test error rate (1 - accuracy); the report turns it back.
"""
import json
import os
import subprocess
import sys

from bench.harness import DEVICES, FRAMEWORKS, accuracy_epochs, skip


def _targets():
    """(framework, device) pairs to train: $SEQMNIST_ACCURACY_RUNS ('torch:cpu,jax:gpu'), else all."""
    spec = os.environ.get("SEQMNIST_ACCURACY_RUNS", "").strip()
    if not spec:
        return [(f, d) for f in FRAMEWORKS for d in DEVICES]
    return [tuple(item.split(":", 1)) for item in spec.split(",") if item]


class Accuracy:
    params = (list(FRAMEWORKS), list(DEVICES), [accuracy_epochs()])
    param_names = ["framework", "device", "epochs"]
    version = "1"
    timeout = 3600

    def setup_cache(self):
        runs = {}
        for framework, device in _targets():
            cmd = [sys.executable, "-m", "bench.accuracy_job", "--framework", framework, "--device", device,
                   "--epochs", str(accuracy_epochs())]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            try:
                runs[f"{framework}:{device}"] = json.loads(proc.stdout)
            except ValueError:
                runs[f"{framework}:{device}"] = {"error": f"exit {proc.returncode}: {proc.stderr[-2000:]}"}
        return runs

    setup_cache.timeout = 7200

    def setup(self, runs, framework, device, epochs):
        run = runs.get(f"{framework}:{device}")
        if run is None:
            skip(f"{framework}:{device} was not selected for training in this run")
        if "skip" in run:
            skip(run["skip"])
        if "error" in run:
            raise RuntimeError(f"accuracy run for {framework} on {device} failed:\n{run['error']}")
        self.run = run

    def track_test_error(self, runs, framework, device, epochs):
        """1 - test accuracy after `epochs` epochs (seed 0, batch 128)."""
        return 1.0 - self.run["test_accuracy"]

    track_test_error.unit = "error rate"

    def track_time_to_accuracy(self, runs, framework, device, epochs):
        """Training seconds (evaluation excluded) until test accuracy first reached 0.97; NaN
        (n/a) when the budget of `epochs` epochs ended first."""
        reached = self.run["time_to_accuracy"]
        return float("nan") if reached is None else reached

    track_time_to_accuracy.unit = "seconds"
