"""bench/tasks/profile.py's printed table: every column it prints has a header."""

from __future__ import annotations

from bench.tasks.profile import render
from bench.workload.breakdown import CATEGORIES


def test_every_printed_column_has_a_header():
    row = {
        "framework": "torch", "variant": "fused", "mode": "train", "batch_size": 128, "step_seconds": 0.010,
        "categories": {c: 0.001 for c in CATEGORIES}, "ceiling_seconds": 0.004, "profiled_seconds": 0.0104,
    }  # fmt: skip
    header, _, line, note = render([row]).splitlines()
    assert len(header.replace("step ms", "step-ms").split()) == len(line.split()), (header, line)
    assert header.split()[-1] == "overhead" and line.split()[-1] == "+4%"
    assert "overhead:" in note
