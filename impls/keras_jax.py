"""Keras 3 on JAX (framework "keras-jax"): impls/keras_lstm.py's model on the JAX backend, with the
native JAX implementation's thread budget, XLA flags and float32 matmul precision."""

from __future__ import annotations

from . import jax_lstm, keras_backend

DISTRIBUTIONS = ("keras", "jax", "jaxlib")
REQUIREMENT = "keras>=3 jax optax"
SHARES_PROCESS = False  # keras holds one backend per process: tests run it in a process of its own
keras_backend.select("jax")

import jax  # noqa: E402

from .keras_lstm import KerasLSTM  # noqa: E402


class KerasJaxLSTM(KerasLSTM):
    """Variant "fused": keras.layers.LSTM, Keras' train_on_batch (jitted by Keras on JAX)."""

    framework = "keras-jax"
    variant = "fused"
    native = jax_lstm.JaxLSTM

    def profile(self, work, steps: int, trace_dir: str):
        return jax_lstm.profile_ops(work, steps, trace_dir)

    def synchronize(self, result=None) -> None:
        jax.block_until_ready(result if result is not None else self.net.trainable_variables[0].value)


class KerasJaxUnrolledLSTM(KerasJaxLSTM):
    """Variant "unroll": keras.layers.LSTM(unroll=True), the time loop unrolled by Keras."""

    variant = "unroll"
    unroll = True
