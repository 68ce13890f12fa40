"""Keras 3 on PyTorch (framework "keras-torch"): impls/keras_lstm.py's model on the torch backend,
with the native PyTorch implementation's thread budget and float32 (TF32 off) switches."""

from __future__ import annotations

from . import keras_backend, torch_lstm

DISTRIBUTIONS = ("keras", "torch")
REQUIREMENT = "keras>=3 torch==2.13.0"
SHARES_PROCESS = False  # keras holds one backend per process: tests run it in a process of its own
keras_backend.select("torch")

import torch  # noqa: E402

from .keras_adam import TorchFormAdam  # noqa: E402
from .keras_lstm import KerasLSTM  # noqa: E402

TorchFormAdam.annotate = staticmethod(torch.profiler.record_function)


class KerasTorchLSTM(KerasLSTM):
    """Variant "fused": keras.layers.LSTM, Keras' train_on_batch (eager on PyTorch)."""

    framework = "keras-torch"
    variant = "fused"
    native = torch_lstm.TorchLSTM

    def profile(self, work, steps: int, trace_dir: str):
        return torch_lstm.profile_ops(work, steps, trace_dir, self.device)

    def synchronize(self, result=None) -> None:
        if self.device == "gpu":
            torch.cuda.synchronize()


class KerasTorchUnrolledLSTM(KerasTorchLSTM):
    """Variant "unroll": keras.layers.LSTM(unroll=True), the time loop unrolled by Keras."""

    variant = "unroll"
    unroll = True


class KerasTorchJitLSTM(KerasTorchLSTM):
    """Variant "jit": Keras' `jit_compile=True`, which on PyTorch compiles the train and predict
    steps with torch.compile (about 80 s for the first step on 2 CPU cores)."""

    variant = "jit"
    jit_compile = True
