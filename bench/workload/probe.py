"""What one framework can do here, asked in a process of its own: version, devices, GPU name.

`python -m bench.workload.probe FRAMEWORK` prints JSON; the runner calls it once per framework so that
it never holds a framework itself and can say once why a combination will be skipped.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from typing import Any

import impls
from impls.threads import thread_budget


def probe(framework: str) -> dict:

    try:
        cls = impls.load(framework)
    except impls.FrameworkUnavailable as exc:
        return {"framework": framework, "available": False, "reason": str(exc), "devices": {}}
    info: dict[str, Any] = {
        "framework": framework,
        "available": True,
        "reason": None,
        "version": cls.framework_version(),
        "devices": {d: cls.device_unavailable(d) for d in impls.DEVICES},
        "gpu_name": None,
    }
    if info["devices"]["gpu"] is None:
        try:
            info["gpu_name"] = cls.gpu_name()
        except Exception:  # the name is a nicety; never fail a probe over it
            pass
    return info


def host_info() -> dict:
    """CPU model, cores, thread budget and GPU driver: recorded beside every run's results."""

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
                capture_output=True,
                text=True,
                timeout=20,
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
