"""Keras on PyTorch's import: what JAX and torch._dynamo cost in it, against PyTorch's and JAX's own
(5 fresh processes of each, alternating; docs/findings.md, "What Keras on PyTorch imports").

    .venv/bin/python docs/probes/keras_imports.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys

TIMED = "import os, sys, time; {before}t = time.perf_counter(); import {module}; took = time.perf_counter() - t; "
REPORT = "print(took, sys.modules.get('jax') is not None, 'torch._dynamo' in sys.modules)"
CODE = {
    "keras on torch, as installed": TIMED.format(before="os.environ['KERAS_BACKEND'] = 'torch'; ", module="keras"),
    "keras on torch, JAX unimportable": TIMED.format(
        before="sys.modules['jax'] = None; os.environ['KERAS_BACKEND'] = 'torch'; ", module="keras"
    ),
    "torch alone": TIMED.format(before="", module="torch"),
    "jax alone": TIMED.format(before="", module="jax"),
}


def main() -> None:
    took: dict[str, list[float]] = {k: [] for k in CODE}
    loaded: dict[str, list[str]] = {}
    for _ in range(5):
        for name, code in CODE.items():
            env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}
            out = subprocess.run([sys.executable, "-c", code + REPORT], capture_output=True, text=True, env=env)
            seconds, *loaded[name] = out.stdout.split()
            took[name].append(float(seconds))
    for name, values in took.items():
        print(
            f"{name:34s} median {statistics.median(values):.2f} s  range {min(values):.2f}-{max(values):.2f}"
            f"  (JAX, torch._dynamo loaded: {', '.join(loaded[name])})"
        )


if __name__ == "__main__":
    main()
