"""What each stored benchmark means to a reader: unit, label, display, direction, format.

Every asv value is "lower is better" (seconds, bytes, error rate) but the matmul peak; samples/s and
accuracy go up, and the tables and verdicts say so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Metric:
    """How a benchmark's stored value reads to a person."""

    label: str
    unit: str  # unit of the stored asv value
    display: str  # "samples/s", "s", "MiB", "accuracy"


METRICS = {
    "train_step": Metric("train samples/s", "seconds", "samples/s"),
    "predict": Metric("predict samples/s", "seconds", "samples/s"),
    "minimal_train_step": Metric("minimal-loop train samples/s", "seconds", "samples/s"),
    "cold_start": Metric("cold start", "seconds", "s"),
    "train": Metric("host peak", "bytes", "MiB"),  # peakmem_train
    "device_peak_memory": Metric("device peak", "bytes", "MiB"),
    "test_error": Metric("test accuracy", "error rate", "accuracy"),
    "time_to_accuracy": Metric("time to 0.97", "seconds", "s"),
}


HIGHER_IS_BETTER = {"matmul_gflops"}  # the one stored value that is not "lower is better"


# the published comparison table, in column order; the rest have tables of their own
TABLE_METRICS = ["train_step", "predict", "minimal_train_step", "cold_start", "train", "device_peak_memory",
                 "test_error", "time_to_accuracy"]


BATCH_METRICS = {"train_step", "predict", "minimal_train_step"}


# The heavy-variants suite: third parameter -> samples/s at batch 128 (or GFLOP/s for the peak).
VARIANT_METRICS = {
    "variant_train_step": "implementation variant",
    "precision_train_step": "precision",
    "sequence_train_step": "sequence",
    "hidden_train_step": "hidden size",
}


# ... and its accuracy benchmarks: (framework, device, precision or sequence, epochs).
ACCURACY_VARIANTS = {"precision_test_error": "precision", "sequence_test_error": "sequence"}


EPOCH_METRICS = {"test_error", "time_to_accuracy"}  # epochs is their third parameter, else the fourth


METRICS.update({metric: Metric(f"train samples/s by {title}", "seconds", "samples/s")
                for metric, title in VARIANT_METRICS.items()})


METRICS.update({
    "matmul_gflops": Metric("matmul peak GFLOP/s", "GFLOP/s", "GFLOP/s"),
    "precision_test_error": Metric("test accuracy by precision", "error rate", "accuracy"),
    "precision_time_to_accuracy": Metric("time to 0.97 by precision", "seconds", "s"),
    "sequence_test_error": Metric("test accuracy by sequence", "error rate", "accuracy"),
})


_PREFIX = re.compile(r"^(time|timeraw|peakmem|track|mem)_")


def metric_of(benchmark: str) -> str:
    return _PREFIX.sub("", benchmark.rsplit(".", 1)[-1])


def display_value(metric: str, value: float, batch_size) -> float:
    """Stored asv value -> the number people read (samples/s, s, MiB, accuracy)."""
    shown = METRICS[metric].display
    if shown == "samples/s":
        return batch_size / value
    if shown == "MiB":
        return value / 2**20
    if shown == "accuracy":
        return 1.0 - value
    return value


def _fmt(shown: str, value: float) -> str:
    if shown == "samples/s":
        return f"{value:,.0f}"
    if shown == "accuracy":
        return f"{value:.4f}"
    if shown == "MiB":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def column_name(metric: str, batch, epochs) -> str:
    """Published column header: label, batch size or epoch budget, unit."""
    m = METRICS[metric]
    if metric == "test_error":
        return f"test accuracy ({epochs} ep)"
    if metric == "time_to_accuracy":
        return f"time to 0.97 s ({epochs} ep)"
    name = m.label + (f" @{batch}" if pd.notna(batch) else "")
    return name + (f" {m.display}" if m.display in ("MiB", "s") else "")


ACCURACY_METRICS = {"test_error", "precision_test_error", "sequence_test_error"}


def hidden_flops(hidden: int) -> float:
    """Matmul FLOPs of one batch-128 train step of the row model with `hidden` units."""
    from impls import LSTMConfig

    from ..harness import train_step_flops

    return train_step_flops(LSTMConfig(n_hidden=hidden))
