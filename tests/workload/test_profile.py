"""`profile` on the real frameworks: each built-in framework's train step at batch 128 (PyTorch,
TensorFlow, JAX; the Keras plugins' many small ops slow their steps by 30-40% under a profiler, which
docs/profiles.md states), split by its own profiler, adds back up to the step timed without the profiler
within 10%, no category negative, and a trace a person can open is written (slow: a process each)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.tasks import profile
from bench.workload.breakdown import CATEGORIES
from impls.registry import BUILTINS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize(  # make test: PyTorch's profiler; make test-all: each framework's
    "framework", [pytest.param(f, marks=() if f == "torch" else pytest.mark.long) for f in BUILTINS]
)
def test_the_breakdown_adds_up_to_the_step(framework, tmp_path):
    opts = profile.ProfileOptions(
        frameworks=[framework], batch_sizes=[128], modes=("train",), steps=10, root=ROOT, trace_root=tmp_path
    )
    tries = []
    for _ in range(3):  # a profile taken while the machine is busy is redone, as a user would (twice at most)
        found, skipped = profile.run(opts, "test-box", log=lambda m: None)
        if framework in skipped and "install" in skipped[framework]:  # not installed here: one row, not the run
            pytest.skip(skipped[framework])
        assert not skipped, skipped
        tries.append(found[0])
        if abs(sum(found[0]["categories"].values()) / found[0]["step_seconds"] - 1.0) <= 0.10:
            break
    b = min(tries, key=lambda t: abs(sum(t["categories"].values()) / t["step_seconds"] - 1.0))
    assert set(b["categories"]) == set(CATEGORIES)
    assert min(b["categories"].values()) >= 0.0
    total = sum(b["categories"].values())
    assert abs(total / b["step_seconds"] - 1.0) <= 0.10, (total, b["step_seconds"], b["categories"])
    assert b["ceiling_seconds"] and 0 < b["ceiling_seconds"] < 2 * b["step_seconds"]
    trace_files = [p for p in (tmp_path / b["trace"]).rglob("*") if p.is_file()]
    assert any(p.name.endswith((".json", ".json.gz", ".pb")) for p in trace_files), os.listdir(tmp_path)
