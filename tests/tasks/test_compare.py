"""bench/tasks/compare.py: the paired comparison's bookkeeping (its statistics are tested in test_stats.py)."""

from __future__ import annotations

import pandas as pd


def test_compare_never_calls_a_pair_skipped_on_both_sides_failed():
    from bench.tasks.compare import estimates

    rows = [
        {
            "framework": "torch",
            "device": "gpu",
            "benchmark": "throughput.TrainStep.time_train_step",
            "param": 0,
            "params": "torch, gpu, 32",
            "round": 1,
            "side": side,
            "value": float("nan"),
            "status": "skipped",
            "reason": "no GPU",
        }
        for side in ("base", "head")
    ]
    assert estimates(pd.DataFrame(rows), 0.03, 0.95).empty
