"""bench/workload/breakdown.py and impls/trace_events.py: ops sorted by what they compute, self times
read from a trace, and the step's matmuls (the reachable ceiling's shapes)."""

from __future__ import annotations

import pytest

from bench.workload.breakdown import CATEGORIES, categorize, matmul_flops, split, step_matmuls
from bench.workload.harness import train_step_flops
from impls import LSTMConfig, OpTime
from impls.trace_events import wall_times


@pytest.mark.parametrize(
    "op, category",
    [
        (OpTime("aten::addmm", "aten::addmm", "", 1.0), "matmul"),
        (OpTime("aten::mm", "aten::mm", "autograd::engine::evaluate_function: MmBackward0/MmBackward0", 1.0), "matmul"),
        (OpTime("aten::mkldnn_rnn_layer", "aten::mkldnn_rnn_layer", "aten::lstm", 1.0), "fused LSTM kernel"),
        (OpTime("aten::_foreach_mul_", "aten::_foreach_mul_", "Optimizer.step#Adam.step", 1.0), "optimizer"),
        (OpTime("aten::add_", "aten::add_", "optimizer", 1.0), "optimizer"),
        (OpTime("fusion.3", "fusion(dot)", "jit(step)/transpose(jvp(scan))", 1.0), "matmul"),
        (OpTime("fusion.9", "fusion", "jit(step)/optimizer/adam", 1.0), "optimizer"),
        (OpTime("dot.1", "dot", "jit(step)", 1.0), "matmul"),
        (OpTime("MatMul", "MatMul", "sequential/lstm", 1.0), "matmul"),
        (OpTime("Sigmoid", "Sigmoid", "sequential/lstm", 1.0), "gates & elementwise"),
        (OpTime("aten::sigmoid", "aten::sigmoid", "", 1.0), "gates & elementwise"),
        (OpTime("MemcpyHtoD", "MemcpyHtoD", "", 1.0), "transfer"),
        (OpTime("Optimizer.step#Adam.step", "Optimizer.step#Adam.step", "", 1.0), "optimizer"),  # its own name
        (OpTime("a", "autograd::engine::evaluate_function: SelectBackward0", "", 1.0), "framework & Python"),
        (OpTime("AssignSubVariableOp", "AssignSubVariableOp", "sequential/lstm", 1.0), "optimizer"),
        (OpTime("_MklMatMul", "_MklMatMul", "sequential/lstm/while/body", 1.0), "matmul"),
        (OpTime("x", "_MklNativeFusedMatMul", "sequential/head", 1.0), "matmul"),
    ],
)
def test_ops_fall_in_the_category_of_what_they_compute(op, category):
    assert categorize(op) == category


def test_split_averages_per_step_and_the_rest_is_the_step_outside_every_op():
    ops = [
        OpTime("aten::addmm", "aten::addmm", "", 0.004, 4),
        OpTime("aten::sigmoid", "aten::sigmoid", "", 0.002, 4),
        OpTime("aten::_foreach_add_", "aten::_foreach_add_", "Optimizer.step#Adam.step", 0.001, 2),
    ]
    per_step, top = split(ops, steps=2, step_seconds=0.005)
    assert set(per_step) == set(CATEGORIES)
    assert per_step["matmul"] == pytest.approx(0.002)
    assert per_step["gates & elementwise"] == pytest.approx(0.001)
    assert per_step["optimizer"] == pytest.approx(0.0005)
    assert per_step["framework & Python"] == pytest.approx(0.005 - 0.0035)
    assert sum(per_step.values()) == pytest.approx(0.005)  # the step, explained
    assert top[0]["op"] == "aten::addmm" and top[0]["category"] == "matmul"


def test_ops_on_several_threads_never_make_the_rest_negative():
    ops = [OpTime("MatMul", "MatMul", "", 0.03), OpTime("Tanh", "Tanh", "", 0.03)]
    per_step, _ = split(ops, steps=1, step_seconds=0.05)
    assert per_step["framework & Python"] == 0.0 and min(per_step.values()) >= 0.0
    assert sum(per_step.values()) == pytest.approx(0.06)  # more than the step: what the 10% check catches


def test_wall_time_splits_overlapping_ops_and_gives_unkept_events_to_the_op_around_them():
    events = [
        {"ph": "X", "name": "step", "pid": 1, "tid": 1, "ts": 0, "dur": 200},  # not an op: outside every op
        {"ph": "X", "name": "fusion.1", "pid": 1, "tid": 1, "ts": 0, "dur": 100, "args": {"op": 1}},
        {"ph": "X", "name": "pool wait", "pid": 1, "tid": 1, "ts": 10, "dur": 30},  # inside fusion.1: its time
        {"ph": "X", "name": "dot.2", "pid": 1, "tid": 2, "ts": 50, "dur": 100, "args": {"op": 1}},  # another thread
        {"ph": "i", "name": "marker", "pid": 1, "tid": 1, "ts": 20},
    ]
    got = {o.name: o for o in wall_times(events, keep=lambda e: "op" in e.get("args", {}))}
    assert set(got) == {"fusion.1", "dot.2"}
    assert got["fusion.1"].seconds == pytest.approx(75e-6)  # 0-50 alone, 50-100 shared with dot.2
    assert got["dot.2"].seconds == pytest.approx(75e-6)  # 50-100 shared, 100-150 alone
    assert sum(o.seconds for o in got.values()) == pytest.approx(150e-6)  # never more than the wall time


@pytest.mark.parametrize("batch", [1, 32, 128, 1024])
def test_the_step_matmuls_are_the_models_flops(batch):
    cfg = LSTMConfig()
    args = (cfg.n_input, cfg.n_hidden, cfg.n_classes, cfg.n_steps, batch)
    forward = matmul_flops(step_matmuls(*args, train=False))
    assert forward == pytest.approx(train_step_flops(cfg, batch) / 3)
    # training: forward, then twice the forward less d(images) (the images need no gradient)
    d_images = cfg.n_steps * 2 * batch * 4 * cfg.n_hidden * cfg.n_input
    assert matmul_flops(step_matmuls(*args, train=True)) == pytest.approx(train_step_flops(cfg, batch) - d_images)


def test_hlo_dumps_name_their_ops_whatever_dots_the_module_name_holds(tmp_path):
    """XLA's text dumps map (module, instruction) to opcode and op name: a JAX module ("jit_step") and a
    TensorFlow one, whose name ends in ".17" ("a_inference__step_fn_7__XlaMustCompile_true_.17")."""
    from impls.trace_events import hlo_ops

    body = """HloModule m

%fused_computation (p0: f32[8,16], p1: f32[16,4]) -> f32[8,4] {
  %p0 = f32[8,16]{1,0} parameter(0)
  %p1 = f32[16,4]{1,0} parameter(1)
  ROOT %dot.1 = f32[8,4]{1,0} dot(%p0, %p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

ENTRY %main (a: f32[8,16], b: f32[16,4]) -> f32[8,4] {
  %a = f32[8,16]{1,0} parameter(0)
  %b = f32[16,4]{1,0} parameter(1)
  %dot_fusion = f32[8,4]{1,0} fusion(%a, %b), kind=kOutput, calls=%fused_computation, metadata={op_name="MatMul"}
  ROOT %tanh.2 = f32[8,4]{1,0} tanh(%dot_fusion), metadata={op_name="optimizer/Tanh"}
}
"""
    tf_module = "a_inference__step_fn_7__XlaMustCompile_true_.17"
    (tmp_path / "module_0001.jit_step.cpu_after_optimizations.txt").write_text(body)
    (tmp_path / f"module_0000.{tf_module}.cpu_after_optimizations.txt").write_text(body)
    (tmp_path / f"module_0000.{tf_module}.cpu_after_optimizations-buffer-assignment.txt").write_text("no ops")
    ops = hlo_ops(tmp_path)
    for module in ("jit_step", tf_module):
        assert ops[(module, "dot_fusion")] == ("fusion(dot)", "MatMul")
        assert ops[(module, "tanh.2")] == ("tanh", "optimizer/Tanh")
