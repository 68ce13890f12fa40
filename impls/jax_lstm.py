"""JAX implementation: an LSTM cell under lax.scan, jitted, with optax.adam.

Parameters live in the canonical layout itself, so get/set_weights are plain copies.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import trace_events
from .base import LSTMModel, OpTime
from .threads import apply_thread_budget

DISTRIBUTIONS = ("jax", "jaxlib")
REQUIREMENT = "jax optax  (or seqmnist-bench[jax])"
THREADS = apply_thread_budget()
if THREADS == 1:
    flags = os.environ.get("XLA_FLAGS", "")
    # XLA has no intra-op thread-count flag (an unknown `--` flag aborts): the affinity mask that
    # apply_thread_budget set bounds its pool, and this turns off Eigen's multi-threaded ops.
    os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
PROFILE_DUMP = trace_events.xla_profiling()  # the profile worker's folder for XLA's HLO dumps, else None

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

# Full float32 matmuls on GPU (XLA's default there is TF32-like): TF32 is the named precision "tf32".
jax.config.update("jax_default_matmul_precision", "highest")
MATMUL_PRECISION = {"float32": "highest", "tf32": "tensorfloat32", "bf16": "highest"}


def _cell(params: dict):
    """One LSTM step (h, c), x_t -> (h, c): input and recurrent projections fused in one matmul."""
    stacked = jnp.concatenate([params["lstm/kernel"], params["lstm/recurrent_kernel"]], axis=0)
    bias = params["lstm/bias"]

    def step(carry, x_t):
        h, c = carry
        i, f, g, o = jnp.split(jnp.concatenate([x_t, h], axis=-1) @ stacked + bias, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    return step


def unrolled_logits_fn(params: dict, x: jnp.ndarray) -> jnp.ndarray:
    """Variant "cell": the same step as a Python loop, unrolled into the jitted program."""
    step = _cell(params)
    h = c = jnp.zeros((x.shape[0], params["lstm/recurrent_kernel"].shape[0]), x.dtype)
    for t in range(x.shape[1]):
        (h, c), _ = step((h, c), x[:, t])
    return h @ params["head/kernel"] + params["head/bias"]


def logits_fn(params: dict, x: jnp.ndarray) -> jnp.ndarray:
    """(B, T, I) -> (B, C). On XLA:CPU the input projection stays inside the scan, fused with the
    recurrent one: hoisting it out as a (T, B, 4H) matmul measured 2x slower (2.9k vs 6.7k
    samples/s at batch 128), two separate matmuls per step about 10% slower."""
    h0 = jnp.zeros((x.shape[0], params["lstm/recurrent_kernel"].shape[0]), x.dtype)
    (h, _), _ = jax.lax.scan(_cell(params), (h0, h0), jnp.swapaxes(x, 0, 1))
    return h @ params["head/kernel"] + params["head/bias"]


def unroll4_logits_fn(params: dict, x: jnp.ndarray) -> jnp.ndarray:
    """Variant "unroll4": the same scan with unroll=4 (four steps per loop iteration, the knob
    lax.scan offers); the same arithmetic in the same order."""
    h0 = jnp.zeros((x.shape[0], params["lstm/recurrent_kernel"].shape[0]), x.dtype)
    (h, _), _ = jax.lax.scan(_cell(params), (h0, h0), jnp.swapaxes(x, 0, 1), unroll=4)
    return h @ params["head/kernel"] + params["head/bias"]


class JaxLSTM(LSTMModel):
    """Variant "fused": the cell under lax.scan, jitted (jax.jit is always on)."""

    framework = "jax"
    variant = "fused"
    logits = staticmethod(logits_fn)
    compiler_options: dict | None = None  # XLA options for this variant's programs only (jax.jit's)

    @classmethod
    def device_unavailable(cls, device: str) -> str | None:
        try:
            jax.devices(device)
        except RuntimeError as exc:
            return f"jax sees no {device.upper()} ({exc})"
        return None

    @classmethod
    def gpu_capability(cls) -> tuple[str, tuple[int, int]]:
        gpu = jax.devices("gpu")[0]
        major, minor = (int(v) for v in str(getattr(gpu, "compute_capability", "0.0")).split(".")[:2])
        return gpu.device_kind, (major, minor)

    @classmethod
    def framework_version(cls) -> str:
        return jax.__version__

    @classmethod
    def gpu_name(cls) -> str | None:
        return jax.devices("gpu")[0].device_kind

    def device_peak_bytes(self) -> int:
        return int((jax.devices(self.device)[0].memory_stats() or {}).get("peak_bytes_in_use", 0))

    @classmethod
    def minimal_loop(cls, batch_size: int, device: str):
        return minimal_loop(batch_size, device)

    @classmethod
    def matmul(cls, n: int, device: str):
        a = jax.device_put(jnp.ones((n, n), jnp.float32), jax.devices(device)[0])
        f = jax.jit(lambda m: m @ m)
        return lambda: f(a).block_until_ready()

    @classmethod
    def matmul_chain(cls, shapes, device: str):
        return matmul_chain(shapes, device)

    def profile(self, work, steps: int, trace_dir: str) -> list[OpTime]:
        return profile_ops(work, steps, trace_dir)

    def _build(self) -> None:
        self.jax_device = jax.devices(self.device)[0]
        cfg = self.config
        self.tx = optax.adam(cfg.learning_rate, b1=cfg.beta1, b2=cfg.beta2, eps=cfg.eps)
        matmul_precision = MATMUL_PRECISION[self.precision]
        compute_dtype = jnp.bfloat16 if self.precision == "bf16" else jnp.float32

        def forward(params, x):
            """bf16: float32 master params cast to bfloat16 for the compute, logits back to float32."""
            with jax.default_matmul_precision(matmul_precision):  # read while tracing
                params = jax.tree.map(lambda p: p.astype(compute_dtype), params)
                return self.logits(params, x.astype(compute_dtype)).astype(jnp.float32)

        def loss_fn(params, x, y):
            return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y).mean()

        def step(params, opt_state, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            with jax.named_scope("optimizer"):  # names the update's ops for the profiler (trace time only)
                updates, opt_state = self.tx.update(grads, opt_state, params)
                return optax.apply_updates(params, updates), opt_state, loss

        self._step = jax.jit(step, donate_argnums=(0, 1), compiler_options=self.compiler_options)
        self._forward = jax.jit(forward, compiler_options=self.compiler_options)

    def _set_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.params = jax.device_put({k: jnp.asarray(v) for k, v in weights.items()}, self.jax_device)
        self.opt_state = jax.device_put(self.tx.init(self.params), self.jax_device)

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float32) for k, v in self.params.items()}

    def to_device(self, x: np.ndarray, y: np.ndarray | None = None):
        xd = jax.device_put(x, self.jax_device)
        return xd if y is None else (xd, jax.device_put(y.astype(np.int32), self.jax_device))

    def step_on_device(self, x, y):
        self.params, self.opt_state, loss = self._step(self.params, self.opt_state, x, y)
        return loss

    def forward_on_device(self, x):
        return self._forward(self.params, x)

    def synchronize(self, result=None) -> None:
        jax.block_until_ready(result if result is not None else self.params)

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.step_on_device(*self.to_device(x, y)))

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward_on_device(self.to_device(x)))


class JaxCellLSTM(JaxLSTM):
    """Variant "cell": the step loop unrolled in Python under jit (no lax.scan)."""

    variant = "cell"
    logits = staticmethod(unrolled_logits_fn)


class JaxUnroll4LSTM(JaxLSTM):
    """Variant "unroll4": lax.scan(unroll=4), jitted."""

    variant = "unroll4"
    logits = staticmethod(unroll4_logits_fn)


class JaxSerialEigenLSTM(JaxLSTM):
    """Variant "eigen-1thread": the fused scan compiled with XLA:CPU's Eigen thread pool off
    (`xla_cpu_multi_thread_eigen=false`, the thread knob XLA offers), for this model's programs only."""

    variant = "eigen-1thread"
    compiler_options = {"xla_cpu_multi_thread_eigen": False}

    @classmethod
    def device_unavailable(cls, device: str) -> str | None:
        if device == "gpu":
            return "eigen-1thread is an XLA:CPU knob (a GPU program has no Eigen thread pool)"
        return super().device_unavailable(device)


def matmul_chain(shapes, device: str = "cpu"):
    """One (m x k) @ (k x n) per shape in one jitted program (as the step runs them), then a wait."""
    dev = jax.devices(device)[0]
    rng = np.random.default_rng(0)
    pairs = [
        (jax.device_put(rng.random((m, k), np.float32), dev), jax.device_put(rng.random((k, n), np.float32), dev))
        for m, k, n in shapes
    ]
    chain = jax.jit(lambda ps: [a @ b for a, b in ps])  # float32 "highest", as set above
    return lambda: jax.block_until_ready(chain(pairs))


def profile_ops(work, steps: int, trace_dir: str) -> list[OpTime]:
    """jax.profiler over `steps` calls of work(): the trace (TensorBoard's plugins/profile/ and a
    perfetto_trace.json.gz) in trace_dir, and each XLA op's wall time from it (XLA:CPU runs independent
    ops on several threads at once), with its opcode and JAX name stack from the HLO dump when the
    profile worker asked for one (SEQMNIST_PROFILE)."""
    options = jax.profiler.ProfileOptions()
    options.python_tracer_level = 0  # Python calls traced would slow the step they explain
    options.host_tracer_level = 1  # the ops (XLA traces them at level 1), not the thread pools under them
    with jax.profiler.trace(trace_dir, create_perfetto_trace=True, profiler_options=options):
        for _ in range(steps):
            work()
    path = max(Path(trace_dir).glob("plugins/profile/*/*.trace.json.gz"), key=lambda p: p.stat().st_mtime)
    return trace_events.hlo_wall_times(trace_events.read(path), PROFILE_DUMP)


def minimal_loop(batch_size: int, device: str = "cpu"):
    """The textbook JAX loop: an LSTM cell in lax.scan, optax.adam, one jitted step."""
    dev = jax.devices("gpu" if device == "gpu" else "cpu")[0]
    k1, k2, k3, k4, k5 = jax.random.split(jax.random.PRNGKey(0), 5)
    params = {
        "w": jax.random.normal(k1, (28 + 128, 512)) * 0.05,
        "b": jnp.zeros(512),
        "wo": jax.random.normal(k2, (128, 10)) * 0.05,
        "bo": jnp.zeros(10),
    }
    tx = optax.adam(1e-3)

    def loss_fn(p, x, y):
        def cell(carry, xt):
            h, c = carry
            i, f, g, o = jnp.split(jnp.concatenate([xt, h], -1) @ p["w"] + p["b"], 4, -1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        h0 = jnp.zeros((x.shape[0], 128))
        (h, _), _ = jax.lax.scan(cell, (h0, h0), jnp.swapaxes(x, 0, 1))
        logits = h @ p["wo"] + p["bo"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def train(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    state = {"p": jax.device_put(params, dev), "s": None}
    state["s"] = tx.init(state["p"])
    x = jax.device_put(jax.random.uniform(k3, (batch_size, 28, 28)), dev)
    y = jax.device_put(jax.random.randint(k4, (batch_size,), 0, 10), dev)

    def step():
        state["p"], state["s"], loss = train(state["p"], state["s"], x, y)
        return loss

    return step, jax.block_until_ready
