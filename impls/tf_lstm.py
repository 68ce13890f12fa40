"""TensorFlow implementation: keras.layers.LSTM inside a tf.function train step, with the
PyTorch-form Adam of impls/keras_adam.py (Keras' own uses the "epsilon hat" form)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import numpy as np

from . import trace_events
from .base import LSTMModel, OpTime
from .threads import apply_thread_budget

DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu")
REQUIREMENT = "tensorflow-cpu (or tensorflow for GPU; or seqmnist-bench[tensorflow])"
THREADS = apply_thread_budget()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"  # this implementation is Keras on TensorFlow, whatever the caller set
PROFILE_DUMP = trace_events.xla_profiling()  # for the `xla` variant's compiled program; None outside a profile

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover - environment misconfiguration
    raise ImportError(f"keras must use the tensorflow backend, got {keras.backend.backend()!r}")

from .keras_adam import TorchFormAdam  # noqa: E402

try:
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
except RuntimeError:  # already initialised in this process
    pass
# Full float32 on GPU (TF's own default is TF32): TF32 is the named precision "tf32".
tf.config.experimental.enable_tensor_float_32_execution(False)


@contextlib.contextmanager
def _tf32():
    tf.config.experimental.enable_tensor_float_32_execution(True)
    try:
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(False)


class TensorFlowLSTM(LSTMModel):
    """Variant "fused": keras.layers.LSTM inside tf.function (cuDNN kernel on GPU)."""

    framework = "tensorflow"
    variant = "fused"
    jit_compile = False

    @classmethod
    def device_unavailable(cls, device: str) -> str | None:
        if device == "gpu" and not tf.config.list_physical_devices("GPU"):
            return "tensorflow sees no GPU (tf.config.list_physical_devices('GPU') is empty)"
        return None

    @classmethod
    def framework_version(cls) -> str:
        return tf.__version__

    @classmethod
    def gpu_name(cls) -> str | None:
        gpu = tf.config.list_physical_devices("GPU")[0]
        return tf.config.experimental.get_device_details(gpu).get("device_name")

    def device_peak_bytes(self) -> int:
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])

    @classmethod
    def minimal_loop(cls, batch_size: int, device: str):
        return minimal_loop(batch_size, device)

    @classmethod
    def matmul(cls, n: int, device: str):
        with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
            a = tf.random.uniform((n, n))
        return lambda: tf.matmul(a, a).numpy()

    @classmethod
    def gpu_capability(cls) -> tuple[str, tuple[int, int]]:
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return details.get("device_name", "this GPU"), tuple(details.get("compute_capability", (0, 0)))

    @classmethod
    def matmul_chain(cls, shapes, device: str):
        return matmul_chain(shapes, device, cls.jit_compile)

    def profile(self, work, steps: int, trace_dir: str) -> list[OpTime]:
        return profile_ops(work, steps, trace_dir)

    def _build(self) -> None:
        self.tf_device = "/GPU:0" if self.device == "gpu" else "/CPU:0"
        cfg = self.config
        # bf16: Keras' mixed policy (float32 variables, bfloat16 compute); logits are cast back.
        policy = "mixed_bfloat16" if self.precision == "bf16" else "float32"
        with tf.device(self.tf_device):
            self.net = keras.Sequential(
                [
                    keras.Input((cfg.n_steps, cfg.n_input)),
                    keras.layers.LSTM(cfg.n_hidden, name="lstm", dtype=policy),
                    keras.layers.Dense(cfg.n_classes, name="head", dtype=policy),
                ]
            )
        self._forward = tf.function(self._forward_fn, jit_compile=self.jit_compile, reduce_retracing=True)

    def _set_weights(self, weights: dict[str, np.ndarray]) -> None:
        lstm, head = self.net.get_layer("lstm"), self.net.get_layer("head")
        lstm.cell.kernel.assign(weights["lstm/kernel"])
        lstm.cell.recurrent_kernel.assign(weights["lstm/recurrent_kernel"])
        lstm.cell.bias.assign(weights["lstm/bias"])
        head.kernel.assign(weights["head/kernel"])
        head.bias.assign(weights["head/bias"])
        cfg = self.config
        with tf.device(self.tf_device):
            self.optimizer = TorchFormAdam(
                learning_rate=cfg.learning_rate, beta_1=cfg.beta1, beta_2=cfg.beta2, epsilon=cfg.eps
            )
            self.optimizer.build(self.net.trainable_variables)
        # A new optimizer means new variables: trace a fresh step for it.
        self._step = tf.function(self._step_fn, jit_compile=self.jit_compile, reduce_retracing=True)

    def get_weights(self) -> dict[str, np.ndarray]:
        lstm, head = self.net.get_layer("lstm"), self.net.get_layer("head")
        return {
            "lstm/kernel": np.asarray(lstm.cell.kernel.numpy(), np.float32),
            "lstm/recurrent_kernel": np.asarray(lstm.cell.recurrent_kernel.numpy(), np.float32),
            "lstm/bias": np.asarray(lstm.cell.bias.numpy(), np.float32),
            "head/kernel": np.asarray(head.kernel.numpy(), np.float32),
            "head/bias": np.asarray(head.bias.numpy(), np.float32),
        }

    def _logits(self, x, training: bool):
        return self.net(x, training=training)

    def _matmuls(self):
        """tf32: TensorFloat-32 execution on around each call (TF reads the flag as kernels run)."""
        return _tf32() if self.precision == "tf32" else contextlib.nullcontext()

    def _forward_fn(self, x):
        return tf.cast(self._logits(x, training=False), tf.float32)

    def _step_fn(self, x, y):
        with tf.GradientTape() as tape:
            logits = tf.cast(self._logits(x, training=True), tf.float32)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        variables = self.net.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    def to_device(self, x: np.ndarray, y: np.ndarray | None = None):
        with tf.device(self.tf_device):
            xt = tf.identity(tf.convert_to_tensor(x))
            return xt if y is None else (xt, tf.identity(tf.convert_to_tensor(y.astype(np.int32))))

    def step_on_device(self, x, y):
        with tf.device(self.tf_device), self._matmuls():
            return self._step(x, y)

    def forward_on_device(self, x):
        with tf.device(self.tf_device), self._matmuls():
            return self._forward(x)

    def synchronize(self, value=None) -> None:
        """Reading a result back waits for it; with nothing to read, wait for every queued op."""
        if value is not None:
            value.numpy()
        else:
            tf.test.experimental.sync_devices()

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.step_on_device(*self.to_device(x, y)).numpy())

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward_on_device(self.to_device(x)).numpy()


class TensorFlowXLALSTM(TensorFlowLSTM):
    """Variant "xla": the same Keras model, train and predict compiled with jit_compile=True."""

    variant = "xla"
    jit_compile = True


class TensorFlowCellLSTM(TensorFlowLSTM):
    """Variant "cell": the original example's shape (BasicLSTMCell + static_rnn): a Python loop
    over steps, unrolled into the tf.function graph, from matmuls and gate nonlinearities."""

    variant = "cell"

    def _logits(self, x, training: bool):
        cell, head = self.net.get_layer("lstm").cell, self.net.get_layer("head")
        dtype = cell.compute_dtype  # bfloat16 under the mixed policy, like the fused layer
        kernel, recurrent, bias = (tf.cast(v, dtype) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
        x = tf.cast(x, dtype)
        h = c = tf.zeros((tf.shape(x)[0], self.config.n_hidden), dtype)
        for t in range(self.config.n_steps):
            z = tf.matmul(x[:, t], kernel) + tf.matmul(h, recurrent) + bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
        return tf.matmul(h, tf.cast(head.kernel, dtype)) + tf.cast(head.bias, dtype)


def matmul_chain(shapes, device: str = "cpu", jit_compile: bool = False):
    """One (m x k) @ (k x n) per shape in one tf.function (as the step's graph runs them; XLA-compiled
    for the `xla` variant, as its step is), then a read."""
    rng = np.random.default_rng(0)
    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        pairs = [
            (tf.constant(rng.random((m, k), np.float32)), tf.constant(rng.random((k, n), np.float32)))
            for m, k, n in shapes
        ]

    @tf.function(jit_compile=jit_compile)
    def chain():  # the pairs captured, not passed: no argument matching per call
        return [tf.matmul(a, b) for a, b in pairs]

    return lambda: chain()[-1].numpy()


def profile_ops(work, steps: int, trace_dir: str) -> list[OpTime]:
    """The TensorFlow profiler over `steps` calls of work(): TensorBoard's xplane.pb in trace_dir with its
    trace-viewer JSON beside it (trace.json, for Perfetto), and each op's self time from the profiler's own
    per-op table (framework_op_stats: op type, scoped op name, occurrences, self time)."""
    # the profiler's native plugin loads only when a profile is taken, never for a benchmark
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin  # noqa: PLC0415

    options = tf.profiler.experimental.ProfilerOptions(host_tracer_level=1, python_tracer_level=0)
    tf.profiler.experimental.start(trace_dir, options=options)
    try:
        for _ in range(steps):
            work()
    finally:
        tf.profiler.experimental.stop()
    xplane = max(Path(trace_dir).glob("plugins/profile/*/*.xplane.pb"), key=lambda p: p.stat().st_mtime)
    trace, ok = plugin.xspace_to_tools_data([str(xplane)], "trace_viewer@")
    if ok:
        xplane.with_name("trace.json").write_bytes(trace)
    table, ok = plugin.xspace_to_tools_data([str(xplane)], "framework_op_stats")
    if not ok:
        raise RuntimeError(f"the TensorFlow profiler could not read {xplane.name}: {table[:200]!r}")
    stats = json.loads(table)[0]
    cols = [c["id"] for c in stats["cols"]]
    where = "Device" if tf.config.list_physical_devices("GPU") else "Host"
    ops = []
    for row in stats["rows"]:
        r = dict(zip(cols, (c.get("v") for c in row["c"])))
        if r["type"] != "IDLE" and r["host_or_device"] == where:
            seconds = float(r["total_self_time"]) / 1e6
            ops.append(OpTime(r["operation"], r["type"], r["operation"], seconds, int(r["occurrences"])))
    compiled = trace_events.hlo_wall_times(trace_events.events(json.loads(trace)), PROFILE_DUMP) if ok else []
    if compiled:  # an XLA-compiled function is one op to TensorFlow: its HLO ops replace it
        ops = [op for op in ops if not _COMPILED_FUNCTION.match(op.kind)] + compiled
    return ops


# What a jit_compile'd tf.function runs as, to TensorFlow's op table (its HLO ops are inside).
_COMPILED_FUNCTION = re.compile(r"^(__inference_\w+|_?XlaLaunch\w*|_XlaRun|_XlaCompile)$")


def minimal_loop(batch_size: int, device: str = "cpu"):
    """The Keras-on-TensorFlow custom loop: Sequential LSTM + Dense, GradientTape in a tf.function."""
    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.LSTM(128), keras.layers.Dense(10)])
        opt = keras.optimizers.Adam(1e-3)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        x = tf.random.uniform((batch_size, 28, 28))
        y = tf.random.uniform((batch_size,), 0, 10, dtype=tf.int32)

    @tf.function
    def train(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return (lambda: train(x, y)), (lambda result: result.numpy())
