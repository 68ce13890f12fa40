"""Heavy variants, in the full suite only (`run --quick` leaves them out; `--bench variants` runs them):
implementation variants and compile modes, precision modes (speed and accuracy), the 784-step pixel
and permuted sequences (speed and accuracy), hidden-size scaling, and each framework's float32
matmul peak (the yardstick for achieved GFLOP/s in the report)."""

import impls
from bench.workload.harness import (
    DEVICES,
    FRAMEWORKS,
    accuracy_epochs,
    runnable,
    sequence_epochs,
    staged,
    train_runs,
    trained_run,
)

ALL_VARIANTS = sorted({v for vs in impls.VARIANTS.values() for v in vs})
HIDDEN_SIZES = (64, 128, 256, 512)
BATCH = 128


class _StepTimer:
    timeout = 1200
    warmup_time = 0.5
    version = "3"  # 3: each process alone; 2: a plain process, no allocator setting (throughput.py)

    def _time(self):
        run = self.run
        run.model.synchronize(run.model.step_on_device(run.x, run.y))


class ImplementationVariants(_StepTimer):
    """fused (library LSTM) vs cell (per-step loop) vs compile modes, batch 128, row sequence."""

    params = (list(FRAMEWORKS), list(DEVICES), ALL_VARIANTS)
    param_names = ["framework", "device", "variant"]

    def setup(self, framework, device, variant):
        self.run = staged(framework, device, BATCH, variant=variant)

    def time_variant_train_step(self, framework, device, variant):
        self._time()


class Sequences(_StepTimer):
    """row (28 steps) vs pixel (784 steps; permuted costs the same), fused, batch 128."""

    params = (list(FRAMEWORKS), list(DEVICES), ["row", "pixel"])
    param_names = ["framework", "device", "sequence"]

    def setup(self, framework, device, sequence):
        self.run = staged(framework, device, BATCH, sequence=sequence)

    def time_sequence_train_step(self, framework, device, sequence):
        self._time()


class Precisions(_StepTimer):
    """float32 vs tf32 (Ampere+ GPUs) vs bf16 mixed precision, fused, batch 128, row sequence."""

    params = (list(FRAMEWORKS), list(DEVICES), list(impls.PRECISIONS))
    param_names = ["framework", "device", "precision"]

    def setup(self, framework, device, precision):
        self.run = staged(framework, device, BATCH, precision=precision)

    def time_precision_train_step(self, framework, device, precision):
        self._time()


class PrecisionAccuracy:
    """Test accuracy and time to 0.97 per precision mode, same budget as the accuracy suite, so a
    fast but wrong mode shows. asv stores the error rate (lower is better)."""

    params = (list(FRAMEWORKS), list(DEVICES), list(impls.PRECISIONS), [accuracy_epochs()])
    param_names = ["framework", "device", "precision", "epochs"]
    version = "1"
    timeout = 3600

    def setup_cache(self):
        return train_runs(accuracy_epochs(), "precision", impls.PRECISIONS)

    setup_cache.timeout = 4 * 3600

    def setup(self, runs, framework, device, precision, epochs):
        self.run = trained_run(runs, f"{framework}:{device}:{precision}")

    def track_precision_test_error(self, runs, framework, device, precision, epochs):
        """1 - test accuracy after `epochs` epochs in this precision (seed 0, batch 128)."""
        return 1.0 - self.run["test_accuracy"]

    track_precision_test_error.unit = "error rate"

    def track_precision_time_to_accuracy(self, runs, framework, device, precision, epochs):
        """Training seconds until test accuracy first reached 0.97; NaN when it never did."""
        reached = self.run["time_to_accuracy"]
        return float("nan") if reached is None else reached

    track_precision_time_to_accuracy.unit = "seconds"


class SequenceAccuracy:
    """Test accuracy on the 784-step pixel and permuted sequences after $SEQMNIST_SEQUENCE_EPOCHS
    epochs (default 1; the epoch count is a parameter, so it is named in every result)."""

    params = (list(FRAMEWORKS), list(DEVICES), ["pixel", "permuted"], [sequence_epochs()])
    param_names = ["framework", "device", "sequence", "epochs"]
    version = "1"
    timeout = 3600

    def setup_cache(self):
        # Evaluating 10,000 test images over 784 steps costs ~15% of an epoch: once per epoch only.
        return train_runs(sequence_epochs(), "sequence", ["pixel", "permuted"], eval_every=0)

    setup_cache.timeout = 12 * 3600

    def setup(self, runs, framework, device, sequence, epochs):
        self.run = trained_run(runs, f"{framework}:{device}:{sequence}")

    def track_sequence_test_error(self, runs, framework, device, sequence, epochs):
        """1 - test accuracy after `epochs` epochs on this sequence (seed 0, batch 128)."""
        return 1.0 - self.run["test_accuracy"]

    track_sequence_test_error.unit = "error rate"


class HiddenScaling(_StepTimer):
    """Hidden size 64..512 at batch 128: the report plots samples/s and GFLOP/s against FLOPs."""

    params = (list(FRAMEWORKS), list(DEVICES), list(HIDDEN_SIZES))
    param_names = ["framework", "device", "hidden"]

    def setup(self, framework, device, hidden):
        self.run = staged(framework, device, BATCH, hidden=hidden)

    def time_hidden_train_step(self, framework, device, hidden):
        self._time()


class MatmulPeak:
    """Each framework's float32 (2048 x 2048) @ (2048 x 2048) rate: the peak GFLOP/s yardstick."""

    params = (list(FRAMEWORKS), list(DEVICES))
    param_names = ["framework", "device"]
    timeout = 600
    version = "1"
    N = 2048

    def setup(self, framework, device):
        self.model_cls = runnable(framework, device)

    def track_matmul_gflops(self, framework, device):
        import time

        run = self.model_cls.matmul(self.N, device)
        run()
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t)
        return 2 * self.N**3 / best / 1e9

    track_matmul_gflops.unit = "GFLOP/s"
