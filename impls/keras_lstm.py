"""Keras 3 on any backend: keras.layers.LSTM and Keras' own training step (`train_on_batch`, jitted
where the backend's default is to: JAX yes, PyTorch eager), with the spec's PyTorch-form Adam.

The backend is fixed per process: impls/keras_jax.py and impls/keras_torch.py set it, import their
native framework's module first (the same thread budget and float32 switches), then this one.
"""

from __future__ import annotations

import keras  # the importer fixed the backend first (impls/keras_backend.py)
import numpy as np

from .base import LSTMModel
from .keras_adam import TorchFormAdam


class KerasLSTM(LSTMModel):
    """Keras 3's Sequential LSTM + Dense, compiled with Keras' loss and the PyTorch-form Adam."""

    native: type[LSTMModel]  # the backend's own implementation: device checks and framework hooks
    unroll = False  # keras.layers.LSTM(unroll=True): the knob Keras offers for short sequences
    jit_compile: bool | str = "auto"  # Keras' default: jitted on JAX, eager on PyTorch

    @classmethod
    def device_unavailable(cls, device: str) -> str | None:
        return cls.native.device_unavailable(device)

    @classmethod
    def gpu_capability(cls):
        return cls.native.gpu_capability()

    @classmethod
    def cpu_bf16_unavailable(cls) -> str | None:
        return None  # Keras' mixed_bfloat16 policy runs its own LSTM kernels in bfloat16 on any CPU

    @classmethod
    def framework_version(cls) -> str:
        return f"keras {keras.__version__} on {cls.native.framework} {cls.native.framework_version()}"

    @classmethod
    def gpu_name(cls) -> str | None:
        return cls.native.gpu_name()

    @classmethod
    def matmul(cls, n: int, device: str):
        return cls.native.matmul(n, device)

    @classmethod
    def matmul_chain(cls, shapes, device: str):
        return cls.native.matmul_chain(shapes, device)

    @classmethod
    def minimal_loop(cls, batch_size: int, device: str):
        """The Keras guide's loop: Sequential, compile(Adam, loss), train_on_batch."""
        with keras.device(_keras_device(device)):
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.LSTM(128), keras.layers.Dense(10)])
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            )
            rng = np.random.default_rng(0)
            x = rng.random((batch_size, 28, 28), dtype=np.float32)
            y = rng.integers(0, 10, batch_size).astype(np.int32)
        return (lambda: model.train_on_batch(x, y)), (lambda result: None)  # train_on_batch returns a float

    def device_peak_bytes(self) -> int:
        return self.native.device_peak_bytes(self)  # the native allocator query, on this row's device

    def _build(self) -> None:
        cfg = self.config
        self.keras_device = _keras_device(self.device)
        policy = "mixed_bfloat16" if self.precision == "bf16" else "float32"
        with keras.device(self.keras_device):
            self.net = keras.Sequential(
                [
                    keras.Input((cfg.n_steps, cfg.n_input)),
                    keras.layers.LSTM(cfg.n_hidden, name="lstm", dtype=policy, unroll=self.unroll),
                    keras.layers.Dense(cfg.n_classes, name="head", dtype=policy),
                    keras.layers.Activation("linear", dtype="float32", name="logits"),  # float32 logits and loss
                ]
            )

    def _set_weights(self, weights: dict[str, np.ndarray]) -> None:
        cfg = self.config
        lstm, head = self.net.get_layer("lstm"), self.net.get_layer("head")
        with keras.device(self.keras_device):
            lstm.cell.kernel.assign(weights["lstm/kernel"])
            lstm.cell.recurrent_kernel.assign(weights["lstm/recurrent_kernel"])
            lstm.cell.bias.assign(weights["lstm/bias"])
            head.kernel.assign(weights["head/kernel"])
            head.bias.assign(weights["head/bias"])
            # a new optimizer (fresh Adam state) and a fresh compiled train function for it
            self.net.compile(
                optimizer=TorchFormAdam(
                    learning_rate=cfg.learning_rate, beta_1=cfg.beta1, beta_2=cfg.beta2, epsilon=cfg.eps
                ),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=self.jit_compile,
            )

    def get_weights(self) -> dict[str, np.ndarray]:
        lstm, head = self.net.get_layer("lstm"), self.net.get_layer("head")
        values = {
            "lstm/kernel": lstm.cell.kernel,
            "lstm/recurrent_kernel": lstm.cell.recurrent_kernel,
            "lstm/bias": lstm.cell.bias,
            "head/kernel": head.kernel,
            "head/bias": head.bias,
        }
        return {k: np.asarray(keras.ops.convert_to_numpy(v), np.float32) for k, v in values.items()}

    def to_device(self, x: np.ndarray, y: np.ndarray | None = None):
        with keras.device(self.keras_device):
            xd = keras.ops.convert_to_tensor(x)
            return xd if y is None else (xd, keras.ops.convert_to_tensor(y.astype(np.int32)))

    def step_on_device(self, x, y):
        """Keras' training step; it returns the loss as a Python float (Keras reads it back)."""
        with keras.device(self.keras_device):
            return self.net.train_on_batch(x, y)

    def forward_on_device(self, x):
        """Keras' inference step (`predict_on_batch`, jitted where the backend's default is to); it
        returns NumPy (Keras reads the logits back)."""
        with keras.device(self.keras_device):
            return self.net.predict_on_batch(x)

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.step_on_device(*self.to_device(x, y)))

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward_on_device(self.to_device(x)))


def _keras_device(device: str) -> str:
    return "gpu:0" if device == "gpu" else "cpu"  # "cpu:0" breaks the torch backend's variable creation
