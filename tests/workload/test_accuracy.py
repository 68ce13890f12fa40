"""The spec's accuracy target on real MNIST, through the train command as a user runs it:
>= 97.5% test accuracy after 5 epochs (seed 0, batch 128) in every installed framework."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import REAL_MNIST, framework_params

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REAL_MNIST, reason="SEQMNIST_DATA_DIR not set: real MNIST not available"),
]


@pytest.mark.parametrize("framework", framework_params())
def test_five_epochs_reach_target(framework):
    proc = subprocess.run(
        [sys.executable, "-m", "bench.cli", "train", "--framework", framework, "--epochs", "5", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=1800,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(re.findall(r"^epoch \d/5: loss", proc.stderr, re.M)) == 5  # a line per epoch
    accuracy = float(re.search(r"test accuracy (\d\.\d+) after 5 epoch", proc.stdout).group(1))
    assert accuracy >= 0.975, proc.stdout
