"""Every benchmark as data, the one table the engine, the store and the report read: one entry per asv
benchmark (its full name), giving the unit asv stores, who measures it (the paired-rounds engine or
asv), its default key for within-arm ratios, the seed-log field it is stored from, how it is shown,
which way is better, which table it belongs to and its parameter names (used only when asv's
benchmarks.json is missing). A new benchmark needs one entry.

Every asv value is "lower is better" (seconds, bytes, error rate) but the matmul peak; samples/s and
accuracy go up, and the tables and verdicts say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.workload.harness import train_step_flops
from impls import LSTMConfig

BATCH = ("framework", "device", "batch_size")
PLAIN = ("framework", "device")
EPOCHS = ("framework", "device", "epochs")


@dataclass(frozen=True)
class Metric:
    """How one benchmark's stored value reads to a person."""

    name: str  # short name: the tidy frame's "metric" column
    label: str
    unit: str  # unit of the stored asv value
    display: str  # "samples/s", "s", "MiB", "accuracy", "GFLOP/s"
    params: tuple[str, ...]  # asv parameter names, for results copied without benchmarks.json
    column: str = ""  # comparison-table header ({batch}, {epochs}); "" = not in the comparison table
    by: str = ""  # variants tables: what the third parameter is ("precision", ...)
    higher_is_better: bool = False  # of the stored value
    accuracy: bool = False
    replicates: str = "processes"  # what its asv samples are: fresh processes, or training seeds
    how: str = ""  # how it is measured, one sentence for the results page
    paired: bool = False  # the paired-rounds engine times it (every framework's process alive each round);
    # asv measures the rest
    default_key: str = ""  # within-arm ratios: the key (parameters but framework and device) others divide by
    seed_field: str = ""  # the accuracy seed log's field stored as this benchmark's per-seed samples

    @property
    def higher_shown_is_better(self) -> bool:
        """Direction of the number people read: samples/s, accuracy and GFLOP/s go up."""
        return self.display in ("samples/s", "accuracy", "GFLOP/s")

    def shown(self, value: float, batch_size=None) -> float:
        """Stored asv value -> the number people read (samples/s, s, MiB, accuracy)."""
        if self.display == "samples/s":
            return batch_size / value
        if self.display == "MiB":
            return value / 2**20
        if self.display == "accuracy":
            return 1.0 - value
        return value

    def format(self, shown: float) -> str:
        if self.display in ("samples/s", "MiB", "steps"):
            return f"{shown:,.0f}"
        if self.display == "accuracy":
            return f"{shown:.4f}"
        return f"{shown:.2f}"

    def header(self, batch, epochs) -> str:
        """Comparison-table column header for one batch size or epoch budget."""
        return self.column.format(batch=batch, epochs=epochs)


def _by(name: str, param: str, title: str, default_key: str) -> Metric:
    """A heavy-variants benchmark: train samples/s at batch 128 per value of its third parameter."""
    return Metric(
        name,
        f"train samples/s by {title}",
        "seconds",
        "samples/s",
        ("framework", "device", param),
        by=title,
        paired=True,
        default_key=default_key,
    )


# In comparison-table column order.
BENCHMARKS: dict[str, Metric] = {
    "throughput.TrainStep.time_train_step": Metric(
        "train_step",
        "train samples/s",
        "seconds",
        "samples/s",
        BATCH,
        column="train samples/s @{batch}",
        how=(
            "one Adam step (forward, backward, update) on a batch already on the device, "
            "synchronized, after warm-up; batch size / seconds per step"
        ),
        paired=True,
        default_key="128",
    ),
    "throughput.Predict.time_predict": Metric(
        "predict",
        "predict samples/s",
        "seconds",
        "samples/s",
        BATCH,
        column="predict samples/s @{batch}",
        how=(
            "one forward pass to logits on a batch already on the device, synchronized; batch size / seconds per call"
        ),
        paired=True,
        default_key="128",
    ),
    "baseline.MinimalLoop.time_minimal_train_step": Metric(
        "minimal_train_step",
        "minimal-loop train samples/s",
        "seconds",
        "samples/s",
        BATCH,
        column="minimal-loop train samples/s @{batch}",
        how=(
            "the framework's textbook training loop (no harness), timed like the train step: the "
            "harness's own overhead is the ratio of the two"
        ),
        paired=True,
    ),
    "baseline.HostMatmul.time_host_matmul": Metric(
        "host_matmul",
        "host matmul",
        "seconds",
        "s",
        PLAIN,
        how=(
            "numpy's float32 2048x2048 matmul inside each framework's process, in the same paired rounds as "
            "its cells: the scale of '% of host matmul peak'"
        ),
        paired=True,
    ),
    "cold_start.ColdStart.timeraw_cold_start": Metric(
        "cold_start",
        "cold start",
        "seconds",
        "s",
        PLAIN,
        column="cold start s",
        how=(
            "a fresh interpreter: import the framework, build the model and run its first train step "
            "(compilation included)"
        ),
    ),
    "memory.HostMemory.peakmem_train": Metric(
        "train",
        "host peak",
        "bytes",
        "MiB",
        PLAIN,
        column="host peak MiB",
        how=("peak resident memory of the process while building the model and training a few steps (asv's peakmem)"),
    ),
    "memory.DeviceMemory.track_device_peak_memory": Metric(
        "device_peak_memory",
        "device peak",
        "bytes",
        "MiB",
        PLAIN,
        column="device peak MiB",
        how=("the framework's own peak device-memory counter after a few train steps (GPU only)"),
    ),
    "accuracy.Accuracy.track_test_error": Metric(
        "test_error",
        "test accuracy",
        "error rate",
        "accuracy",
        EPOCHS,
        column="test accuracy ({epochs} ep)",
        accuracy=True,
        replicates="seeds",
        how=(
            "accuracy on the 10,000 MNIST test images after training for the stated epochs: the median "
            "over seeds 0, 1, 2 (each seed its own init and batch order)"
        ),
        seed_field="test_error",
    ),
    "accuracy.Accuracy.track_time_to_accuracy": Metric(
        "time_to_accuracy",
        "time to 0.97",
        "seconds",
        "s",
        EPOCHS,
        column="time to 0.97 s ({epochs} ep)",
        replicates="seeds",
        how=(
            "training seconds (evaluation excluded) until the test accuracy, checked every 100 steps, first "
            "reaches 0.97; the median over the seeds that reached it"
        ),
        seed_field="time_to_accuracy",
    ),
    "accuracy.Accuracy.track_steps_to_accuracy": Metric(
        "steps_to_accuracy",
        "steps to 0.97",
        "steps",
        "steps",
        EPOCHS,
        column="steps to 0.97 ({epochs} ep)",
        replicates="seeds",
        how=(
            "optimizer steps (batch 128) until the test accuracy, checked every 100 steps, first reaches 0.97: "
            "the median over the seeds that reached it. Equivalent implementations take the same steps per seed "
            "(same init and batches), so a framework's time to accuracy is these steps x its seconds per step"
        ),
        seed_field="steps_to_accuracy",
    ),
    "variants.ImplementationVariants.time_variant_train_step": _by(
        "variant_train_step", "variant", "implementation variant", "fused"
    ),
    "variants.Precisions.time_precision_train_step": _by("precision_train_step", "precision", "precision", "float32"),
    "variants.Sequences.time_sequence_train_step": _by("sequence_train_step", "sequence", "sequence", "row"),
    "variants.HiddenScaling.time_hidden_train_step": _by("hidden_train_step", "hidden", "hidden size", "128"),
    "variants.MatmulPeak.track_matmul_gflops": Metric(
        "matmul_gflops", "matmul peak GFLOP/s", "GFLOP/s", "GFLOP/s", PLAIN, higher_is_better=True
    ),
    "variants.PrecisionAccuracy.track_precision_test_error": Metric(
        "precision_test_error",
        "test accuracy by precision",
        "error rate",
        "accuracy",
        ("framework", "device", "precision", "epochs"),
        by="precision",
        accuracy=True,
    ),
    "variants.PrecisionAccuracy.track_precision_time_to_accuracy": Metric(
        "precision_time_to_accuracy",
        "time to 0.97 by precision",
        "seconds",
        "s",
        ("framework", "device", "precision", "epochs"),
    ),
    "variants.SequenceAccuracy.track_sequence_test_error": Metric(
        "sequence_test_error",
        "test accuracy by sequence",
        "error rate",
        "accuracy",
        ("framework", "device", "sequence", "epochs"),
        by="sequence",
        accuracy=True,
    ),
}

METRICS: dict[str, Metric] = {m.name: m for m in BENCHMARKS.values()}  # by short name, for the frame
TABLE_METRICS = [m.name for m in BENCHMARKS.values() if m.column]  # the comparison table, in order
VARIANT_METRICS = {m.name: m.by for m in BENCHMARKS.values() if m.by and not m.accuracy}  # samples/s by ...
ACCURACY_VARIANTS = {m.name: m.by for m in BENCHMARKS.values() if m.by and m.accuracy}  # accuracy by ...
DEFAULT_KEY = {name: m.default_key for name, m in BENCHMARKS.items() if m.default_key}  # within-arm ratios
SEED_FIELDS = {m.seed_field: name for name, m in BENCHMARKS.items() if m.seed_field}  # seed log -> benchmark
# The engine's benchmarks as a regex on the full name (anchored at the start by its users).
PAIRED = "(" + "|".join(re.escape(name) for name, m in BENCHMARKS.items() if m.paired) + ")"
TRAIN_STEP = "throughput.TrainStep.time_train_step"  # the benchmarks other modules single out by name
HOST_MATMUL = "baseline.HostMatmul.time_host_matmul"

_PREFIX = re.compile(r"^(time|timeraw|peakmem|track|mem)_")


def metric_of(benchmark: str) -> str:
    """Short name of a benchmark: its entry's, or the method name without asv's prefix."""
    known = BENCHMARKS.get(benchmark)
    return known.name if known else _PREFIX.sub("", benchmark.rsplit(".", 1)[-1])


def display_value(metric: str, value: float, batch_size) -> float:
    return METRICS[metric].shown(value, batch_size)


def hidden_flops(hidden: int) -> float:
    """Matmul FLOPs of one batch-128 train step of the row model with `hidden` units."""

    return train_step_flops(LSTMConfig(n_hidden=hidden))
