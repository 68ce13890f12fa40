"""Where one step's time goes: each profiled op sorted into a category by what it computes, and the
step's time outside every op (dispatch, Python, waiting) as the rest.

The rules read the names the frameworks' own profilers give (aten ops, HLO opcodes, TensorFlow op
types) and the scopes around them; they are plain data so a new framework adds a pattern, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from impls import OpTime

# Bar order on the page, bottom to top.
CATEGORIES = ("matmul", "fused LSTM kernel", "gates & elementwise", "optimizer", "transfer", "framework & Python")

# First match wins; each rule reads the op's scope path (its enclosing scopes and its own name) or its
# kind. The optimizer is found by its scope: the update's annotation (torch's Optimizer.step, our
# "optimizer" scope, Keras' optimizer name scope). The autograd engine's own node wrappers (their
# kernels are their children) are the framework's bookkeeping.
_RULES: tuple[tuple[str, str, re.Pattern], ...] = (
    ("optimizer", "scope", re.compile(r"(^|/)(Optimizer\.(step|zero_grad)|optimizer|torch_form_adam)", re.I)),
    ("framework & Python", "kind", re.compile(r"^autograd::engine::evaluate_function: ")),
    ("optimizer", "kind", re.compile(r"^(ResourceApply\w*|AssignSubVariableOp|AssignAddVariableOp)$")),
    ("transfer", "kind", re.compile(r"(memcpy|Memcpy|HtoD|DtoH|_Send|_Recv|copy-start|copy-done|TransferTo)")),
    ("fused LSTM kernel", "kind", re.compile(r"(mkldnn_rnn|_cudnn_rnn|CudnnRNN|miopen_rnn|lstm_cell)", re.I)),
    (
        "matmul",
        "kind",
        re.compile(
            r"^(aten::(mm|addmm|bmm|baddbmm|matmul|linear)|dot|dot_general|.*\(dot\)|_?(Mkl|MklNative)?(Fused)?(Batch)?MatMul\w*|convolution)$"
        ),
    ),
)
# Ops that only enclose others (their own time is the harness's step or the framework's bookkeeping).
_ENCLOSING = re.compile(r"^(ProfilerStep#\d+|step)$")


def row_key(b: dict) -> tuple:
    """What one stored breakdown measured: (framework, variant, device, mode, batch size)."""
    return (b["framework"], b["variant"], b.get("device", "cpu"), b["mode"], b["batch_size"])


def row_name(framework: str, variant: str) -> str:
    """A profiled row's name: the framework, and its variant where it is not the closed row's."""
    return framework if variant == "fused" else f"{framework} ({variant})"


def categorize(op: OpTime) -> str:
    """The category of one op: the first rule that matches its scope or kind; gate math otherwise."""
    path = f"{op.scope}/{op.name}" if op.scope else op.name
    for category, part, pattern in _RULES:
        if pattern.search(path if part == "scope" else op.kind):
            return category
    return "gates & elementwise"


@dataclass
class Breakdown:
    """One step of one framework, split: seconds per step in each category (the rest: the step's time
    outside every op). step_seconds: the step timed without the profiler; profiled_seconds: with it."""

    framework: str
    variant: str
    device: str
    mode: str  # "train" or "predict"
    batch_size: int
    step_seconds: float
    profiled_seconds: float
    categories: dict[str, float] = field(default_factory=dict)
    ceiling_seconds: float | None = None  # the step's matmuls alone, in the same framework
    top_ops: list[dict] = field(default_factory=list)
    trace: str = ""


def split(ops: list[OpTime], steps: int, step_seconds: float) -> tuple[dict[str, float], list[dict]]:
    """(seconds per step by category, the ten costliest ops) from `steps` profiled steps; the rest
    ("framework & Python") is the step timed without the profiler less the ops' time under it, so the
    profiler's own cost, which falls between ops, is not counted as the framework's. Ops that add up
    to more than the step leave the rest at zero (and the sum above the step: the check sees it)."""
    per_step = {c: 0.0 for c in CATEGORIES}
    by_op: dict[tuple[str, str], float] = {}
    for op in ops:
        if _ENCLOSING.match(op.name) or op.seconds <= 0:
            continue
        category = categorize(op)
        per_step[category] += op.seconds / steps
        key = (op.kind, category)
        by_op[key] = by_op.get(key, 0.0) + op.seconds / steps
    inside = sum(per_step.values())
    per_step["framework & Python"] += max(0.0, step_seconds - inside)
    top = sorted(by_op.items(), key=lambda kv: -kv[1])[:10]
    return per_step, [{"op": k, "category": c, "seconds": s} for (k, c), s in top]


def step_matmuls(n_input: int, n_hidden: int, n_classes: int, n_steps: int, batch: int, train: bool):
    """The (m, k, n) matmuls of one step of the canonical model: per time step the input and recurrent
    projections, then the head; training adds, per matmul, the gradients of its input (d(in) = d(out) @
    W^T; none for the images, which need no gradient) and of its weight (d(W) = in^T @ d(out))."""
    gates = 4 * n_hidden
    x_proj, h_proj, head = (batch, n_input, gates), (batch, n_hidden, gates), (batch, n_hidden, n_classes)
    forward = [x_proj, h_proj] * n_steps + [head]
    if not train:
        return forward
    d_head = [(batch, n_classes, n_hidden), (n_hidden, batch, n_classes)]
    d_step = [(n_input, batch, gates), (batch, gates, n_hidden), (n_hidden, batch, gates)]
    return forward + d_head + d_step * n_steps


def matmul_flops(shapes) -> float:
    return float(sum(2 * m * k * n for m, k, n in shapes))
