"""What one framework can do here, asked in a process of its own: version, devices, GPU name.

`python -m bench.probe FRAMEWORK` prints JSON; the runner calls it once per framework so that
it never holds a framework itself and can say once why a combination will be skipped.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys


def probe(framework: str) -> dict:
    import impls

    try:
        cls = impls.load(framework)
    except impls.FrameworkUnavailable as exc:
        return {"framework": framework, "available": False, "reason": str(exc), "devices": {}}
    module = sys.modules[{"torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}[framework]]
    info = {
        "framework": framework,
        "available": True,
        "reason": None,
        "version": getattr(module, "__version__", "unknown"),
        "devices": {d: cls.device_unavailable(d) for d in impls.DEVICES},
        "gpu_name": None,
    }
    if info["devices"]["gpu"] is None:
        info["gpu_name"] = _gpu_name(framework)
    return info


def _gpu_name(framework: str) -> str | None:
    try:
        if framework == "torch":
            import torch

            return torch.cuda.get_device_name(0)
        if framework == "jax":
            import jax

            return jax.devices("gpu")[0].device_kind
        import tensorflow as tf

        gpu = tf.config.list_physical_devices("GPU")[0]
        return tf.config.experimental.get_device_details(gpu).get("device_name")
    except Exception:  # the name is a nicety; never fail a probe over it
        return None


def host_info() -> dict:
    """CPU model, cores, thread budget and GPU driver: recorded beside every run's results."""
    from impls.threads import thread_budget

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    driver = None
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20,
            ).stdout.strip()
            driver = out.splitlines()[0] if out else None
        except (OSError, subprocess.SubprocessError):
            driver = None
    return {
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "threads": thread_budget(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gpu_driver": driver,
    }


if __name__ == "__main__":
    json.dump(probe(sys.argv[1]), sys.stdout)
