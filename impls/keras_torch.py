"""Keras 3 on PyTorch (framework "keras-torch"): impls/keras_lstm.py's model on the torch backend,
with the native PyTorch implementation's thread budget and float32 (TF32 off) switches."""
from __future__ import annotations

import os
import sys

from . import torch_lstm

DISTRIBUTIONS = ("keras", "torch")
REQUIREMENT = "keras>=3 torch==2.13.0"
SHARES_PROCESS = False  # keras holds one backend per process: tests run it in a process of its own
if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "torch":  # before touching the env
    raise ImportError(f"keras is already loaded on the {sys.modules['keras'].backend.backend()!r} backend in this "
                      "process; keras-torch runs in a process of its own (as run, compare and the tests start it)")
os.environ["KERAS_BACKEND"] = "torch"

import torch  # noqa: E402

from .keras_lstm import KerasLSTM, check_backend  # noqa: E402

check_backend("torch")


class KerasTorchLSTM(KerasLSTM):
    """Variant "fused": keras.layers.LSTM, Keras' train_on_batch (eager on PyTorch)."""

    framework = "keras-torch"
    variant = "fused"
    native = torch_lstm.TorchLSTM

    def device_peak_bytes(self) -> int:
        return int(torch.cuda.max_memory_allocated())

    def synchronize(self, result=None) -> None:
        if self.device == "gpu":
            torch.cuda.synchronize()
