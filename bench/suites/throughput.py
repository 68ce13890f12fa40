"""Steady-state train-step and predict time on a batch already on the device (synchronized).

Version 2: each framework's plain process (the C library's and the framework's defaults; version 1 ran
the engine's workers with fixed glibc malloc thresholds), predict timed in a process that has not
trained (version 1 warmed it up with train steps and timed it beside the train step), and in a full
run each batch size in processes of its own (version 1 timed every batch size in one process).
Version 3: each process staged and timed with no other worker alive, the frameworks one after another in
random order every round (version 2 kept every framework's worker alive and took their samples in turn,
which leaned Keras on PyTorch's predict 9% against PyTorch's own process: docs/validation.md)."""

from bench.workload.harness import BATCH_SIZES, DEVICES, FRAMEWORKS, staged


class _Staged:
    """Framework x device x batch size; the model is built and compiled once per process."""

    params = (list(FRAMEWORKS), list(DEVICES), list(BATCH_SIZES))
    param_names = ["framework", "device", "batch_size"]
    version = "3"
    timeout = 600
    warmup_time = 0.5

    def setup(self, framework, device, batch_size):
        self.run = staged(framework, device, batch_size)


class TrainStep(_Staged):
    """One Adam step; reports turn seconds into samples/s (batch_size / time)."""

    def time_train_step(self, framework, device, batch_size):
        run = self.run
        run.model.synchronize(run.model.step_on_device(run.x, run.y))


class Predict(_Staged):
    """Forward pass only (logits), no gradient, in a process that has not trained (a user's inference
    process): the engine stages and times it before anything else in the process."""

    process_order = 0  # staged and timed before anything else in its process (bench/measure/worker.py)

    def setup(self, framework, device, batch_size):
        self.run = staged(framework, device, batch_size, train=False)

    def time_predict(self, framework, device, batch_size):
        run = self.run
        run.model.synchronize(run.model.forward_on_device(run.x))
