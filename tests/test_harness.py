"""bench/harness.py: the work one timed step does.
"""
from __future__ import annotations

import impls
from bench.harness import train_step_flops


def test_flop_count_of_a_train_step():
    # 3 x (28 steps x 2*128*(28+128)*512 + 2*128*128*10)
    assert train_step_flops(impls.LSTMConfig()) == 3 * (28 * 2 * 128 * 156 * 512 + 2 * 128 * 128 * 10)
