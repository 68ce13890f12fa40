"""The start of a probe's child process, shared by the probes that time a framework in a process of its
own: the framework staged at batch 128 as the suites stage it (bench.workload.harness.staged), then
`step()` (one synchronized train step) and `predict()` (one synchronized forward pass)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def staged_preamble(framework: str, train: bool = True) -> str:
    """Python source that stages `framework` on the CPU and defines step() and predict(); with `train`
    False its warm-up runs forward passes only, as the Predict benchmark stages it (a process that has
    not trained)."""
    return f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from bench.workload.harness import staged

s = staged({framework!r}, "cpu", 128, train={train!r})
m = s.model
step = lambda: m.synchronize(m.step_on_device(s.x, s.y))
predict = lambda: m.synchronize(m.forward_on_device(s.x))
"""
