"""The interface every framework implements, with the input checks and evaluation they share.

Subclasses implement the underscored hooks; the public methods validate first, so bad input
fails with a ValueError before any framework code runs.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .config import LSTMConfig
from .weights import check_weights, init_weights

DEVICES = ("cpu", "gpu")
# Numeric precision modes. float32: full float32 everywhere (the default and the spec). tf32: float32
# storage with TensorFloat-32 matmuls (NVIDIA Ampere or newer only). bf16: mixed precision, float32
# master weights and optimizer, bfloat16 compute in each framework's idiomatic form.
PRECISIONS = ("float32", "tf32", "bf16")
TF32_GPU = "tf32 is a GPU tensor-core mode (NVIDIA compute capability 8.0 or newer)"


@dataclass(frozen=True)
class OpTime:
    """One op (kernel) as the framework's own profiler saw it over the profiled steps: what the
    harness sorts into matmul, gate math, optimizer, transfer and the rest."""

    name: str  # as the profiler names it: aten::addmm, fusion.12, MatMul
    kind: str  # what it computes, in the framework's words: the aten op, HLO opcode, TF op type
    scope: str  # enclosing annotations or name scopes, "/"-joined: Optimizer.step#Adam.step, jit(step)/optimizer
    seconds: float  # self time (children excluded), summed over the profiled steps
    calls: int = 1


class DeviceUnavailable(RuntimeError):
    """The requested device is not visible to this framework."""


class PrecisionUnavailable(DeviceUnavailable):
    """The device exists but cannot run the requested precision mode (e.g. tf32 on a CPU)."""


class LSTMModel(abc.ABC):
    """One sequential-MNIST LSTM + Adam, in canonical weights, on one device."""

    framework: str = ""

    def __init__(
        self, config: LSTMConfig = LSTMConfig(), device: str = "cpu", seed: int = 0, precision: str = "float32"
    ):
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        reason = self.device_unavailable(device)
        if reason:
            raise DeviceUnavailable(reason)
        reason = self.precision_unavailable(device, precision)
        if reason:
            raise PrecisionUnavailable(reason)
        self.config = config
        self.device = device
        self.seed = seed
        self.precision = precision
        self._build()
        self.set_weights(init_weights(config, seed))

    # -- framework hooks -------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def device_unavailable(cls, device: str) -> str | None:
        """Why `device` cannot be used by this framework here; None when it can."""

    @classmethod
    def gpu_capability(cls) -> tuple[str, tuple[int, int]]:
        """Name and CUDA compute capability of the framework's GPU (called only when it has one).
        The default (unknown, 0.0) refuses the reduced-precision modes on GPU."""
        return "an uninspected GPU", (0, 0)

    @classmethod
    def precision_unavailable(cls, device: str, precision: str) -> str | None:
        """Why `precision` cannot run on a usable `device` here; None when it can."""
        if device == "cpu" and precision == "bf16":
            return cls.cpu_bf16_unavailable()
        if precision == "float32":
            return None
        if device == "cpu":
            return f"{TF32_GPU}; a CPU has no such mode"
        name, (major, minor) = cls.gpu_capability()
        if (major, minor) < (8, 0):
            return f"{precision} needs compute capability 8.0 or newer; {name} has {major}.{minor}"
        return None

    @classmethod
    def cpu_bf16_unavailable(cls) -> str | None:
        """Why bf16 cannot run on this CPU (hook; None: it can)."""
        return None

    # -- what the harness asks of a framework (hooks; the defaults say "not provided") ----------
    @classmethod
    def framework_version(cls) -> str:
        """The framework's version string, as it reports it."""
        return "unknown"

    @classmethod
    def gpu_name(cls) -> str | None:
        """The framework's GPU name (asked only when it has one); None when unknown."""
        return None

    def device_peak_bytes(self) -> int:
        """Peak bytes the framework's allocator held on this model's GPU in this process."""
        raise NotImplementedError(f"{self.framework} does not report device memory")

    @classmethod
    def minimal_loop(cls, batch_size: int, device: str):
        """(step, sync) of the framework's textbook training loop for the same model (no harness):
        step() runs one Adam step on a fixed batch already on the device, sync(step's result) waits for it."""
        raise NotImplementedError(f"{cls.framework} has no minimal idiomatic loop")

    @classmethod
    def matmul(cls, n: int, device: str):
        """A function that computes one float32 (n x n) @ (n x n) on `device` and waits for it: the
        framework's matmul peak, the yardstick for achieved GFLOP/s."""
        raise NotImplementedError(f"{cls.framework} has no matmul probe")

    @classmethod
    def matmul_chain(cls, shapes: list[tuple[int, int, int]], device: str) -> Callable[[], object]:
        """A function computing one float32 (m x k) @ (k x n) per shape on `device`, in order, and
        waiting for the last: the matmuls of one step timed alone, the step's reachable ceiling."""
        raise NotImplementedError(f"{cls.framework} has no matmul chain")

    def profile(self, work: Callable[[], object], steps: int, trace_dir: str) -> list[OpTime]:
        """Run work() `steps` times under the framework's own profiler, write a trace a person can open
        (Perfetto / Chrome JSON or TensorBoard) into trace_dir, and return every op's self time."""
        raise NotImplementedError(f"{self.framework} has no profiler hook")

    @classmethod
    def unavailable(cls, device: str, precision: str = "float32") -> str | None:
        """Why this model cannot run on `device` in `precision` here (device first); None when it can."""
        return cls.device_unavailable(device) or cls.precision_unavailable(device, precision)

    @abc.abstractmethod
    def _build(self) -> None:
        """Create the framework model on self.device (raise DeviceUnavailable if absent)."""

    @abc.abstractmethod
    def _set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load validated canonical float32 weights and reset the optimizer state."""

    @abc.abstractmethod
    def get_weights(self) -> dict[str, np.ndarray]:
        """Current weights in the canonical layout, as float32 NumPy arrays."""

    @abc.abstractmethod
    def _train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One Adam step; the batch's mean loss before the update."""

    @abc.abstractmethod
    def _predict(self, x: np.ndarray) -> np.ndarray:
        """Logits (B, C) as float32 NumPy."""

    # -- public interface ------------------------------------------------
    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Load canonical weights (checked) and reset the optimizer state."""
        self._set_weights(check_weights(weights, self.config))

    def train_step(self, x, y) -> float:
        """One Adam step on (x, y); returns the mean loss before the update."""
        x, y = self.check_batch(x, y)
        return float(self._train_step(x, y))

    def predict(self, x) -> np.ndarray:
        """Float32 logits (B, n_classes)."""
        return np.asarray(self._predict(self.check_inputs(x)), dtype=np.float32)

    def evaluate(self, x, y, batch_size: int = 1000) -> float:
        """Accuracy in [0, 1] over (x, y), predicted in batches of batch_size."""
        x, y = self.check_batch(x, y)
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        correct = 0
        for start in range(0, len(x), batch_size):
            logits = self._predict(x[start : start + batch_size])
            correct += int(np.sum(np.argmax(logits, axis=1) == y[start : start + batch_size]))
        return correct / len(x)

    # -- validation ------------------------------------------------------
    def check_inputs(self, x) -> np.ndarray:
        """x as contiguous float32 (B, n_steps, n_input), finite, B >= 1."""
        cfg = self.config
        want = f"(batch, {cfg.n_steps}, {cfg.n_input})"
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise ValueError(f"x must be an array of shape {want}: {exc}") from None
        if arr.dtype.kind not in "fiub":
            raise ValueError(f"x must be numeric of shape {want}, got dtype {arr.dtype}")
        if arr.ndim != 3 or arr.shape[1:] != (cfg.n_steps, cfg.n_input):
            raise ValueError(f"x must have shape {want}, got {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError(f"x is an empty batch; expected shape {want} with batch >= 1")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"x contains NaN or infinite values (shape {want})")
        return arr

    def check_batch(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) checked together: y integer labels in [0, n_classes) of shape (batch,)."""
        x = self.check_inputs(x)
        n, c = len(x), self.config.n_classes
        y = np.asarray(y)
        if y.dtype.kind not in "iu":
            raise ValueError(f"y must be integer class labels of shape ({n},), got dtype {y.dtype}")
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},) to match x, got {y.shape}")
        if y.min() < 0 or y.max() >= c:
            raise ValueError(f"y labels must lie in 0..{c - 1}, got range {y.min()}..{y.max()}")
        return x, y.astype(np.int32)

    # -- device-level hooks for benchmarks (data already on the device) --
    @abc.abstractmethod
    def to_device(self, x: np.ndarray, y: np.ndarray | None = None):
        """Checked NumPy batch -> framework tensors on the model's device."""

    @abc.abstractmethod
    def step_on_device(self, x, y):
        """One Adam step on device tensors; returns the loss without forcing a sync."""

    @abc.abstractmethod
    def forward_on_device(self, x):
        """Logits on the device, without forcing a sync."""

    @abc.abstractmethod
    def synchronize(self, result=None) -> None:
        """Block until `result` (and all queued work) is computed: the timing barrier."""
