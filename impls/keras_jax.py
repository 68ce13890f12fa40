"""Keras 3 on JAX (framework "keras-jax"): impls/keras_lstm.py's model on the JAX backend, with the
native JAX implementation's thread budget, XLA flags and float32 matmul precision."""
from __future__ import annotations

import os
import sys

from . import jax_lstm

DISTRIBUTIONS = ("keras", "jax", "jaxlib")
REQUIREMENT = "keras>=3 jax optax"
SHARES_PROCESS = False  # keras holds one backend per process: tests run it in a process of its own
if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "jax":  # before touching the env
    raise ImportError(f"keras is already loaded on the {sys.modules['keras'].backend.backend()!r} backend in this "
                      "process; keras-jax runs in a process of its own (as run, compare and the tests start it)")
os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402

from .keras_lstm import KerasLSTM, check_backend  # noqa: E402

check_backend("jax")


class KerasJaxLSTM(KerasLSTM):
    """Variant "fused": keras.layers.LSTM, Keras' train_on_batch (jitted by Keras on JAX)."""

    framework = "keras-jax"
    variant = "fused"
    native = jax_lstm.JaxLSTM

    def device_peak_bytes(self) -> int:
        return int((jax.devices(self.device)[0].memory_stats() or {}).get("peak_bytes_in_use", 0))

    def synchronize(self, result=None) -> None:
        jax.block_until_ready(result if result is not None else self.net.trainable_variables[0].value)
