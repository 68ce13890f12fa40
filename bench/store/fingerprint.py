"""Machine identity: what a host is (CPU, cores, memory, OS, versions) and how fast it is today.

Results stored under one machine name must come from one host: two boxes of the same kind can
differ by 1.7x in matmul rate. Every run records a fingerprint; a run whose fingerprint does not
match the one stored under its machine name is kept apart under a key of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench.core import files
from bench.store import layout
from impls.registry import BUILTINS, plugins

_CALIBRATE = """
import time, numpy as np
a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32); b = a.T.copy()
a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(7))
print(2 * 2048 ** 3 / best / 1e9)
"""


def calibrate(threads: int) -> float | None:
    """float32 2048x2048 matmul GFLOP/s with numpy's BLAS on `threads` threads (best of 7), in a
    child process so the thread setting takes; None if it cannot run."""
    env = dict(
        os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)
    )
    try:
        out = subprocess.run([sys.executable, "-c", _CALIBRATE], capture_output=True, text=True, env=env, timeout=120)
        return round(float(out.stdout.strip()), 1)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def installed_versions(frameworks) -> dict[str, str]:
    """Installed version of each framework's distribution, read without importing it. Pass every
    framework, not the ones a command selected: the fingerprint must not depend on the selection."""

    out = {}
    for fw in frameworks:
        found = []
        for dist in plugins()[fw].distributions if fw in plugins() else (fw,):
            try:
                found.append(f"{dist} {version(dist)}")
            except PackageNotFoundError:
                pass
        out[fw] = ", ".join(found) or "not installed"
    return out


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            kib = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        return round(kib / 2**20)
    except (OSError, StopIteration, ValueError):
        return None


def take(host: dict, versions: dict[str, str], calibration: bool = True) -> dict:
    """This host's fingerprint: `host` is probe.host_info(), `versions` framework -> version."""
    fp = {
        "cpu_model": host.get("cpu_model"),
        "cpu_count": host.get("cpu_count"),
        "threads": host.get("threads"),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpu": host.get("gpu_driver"),
        # the built-in frameworks' versions identify the host's software; a plugin's are recorded beside
        # them but do not split the machine's history (installing one is not a new host)
        "versions": {k: v for k, v in sorted(versions.items()) if k in BUILTINS},
        "plugin_versions": {k: v for k, v in sorted(versions.items()) if k not in BUILTINS},
        "matmul_gflops": calibrate(int(host.get("threads") or 1)) if calibration else None,
    }
    fp["id"] = identity(fp)
    return fp


STABLE = ("cpu_model", "cpu_count", "threads", "memory_gib", "os", "python", "gpu", "versions")


def identity(fp: dict) -> str:
    """Short hash of the fields that do not change between runs on one host."""
    text = json.dumps({k: fp.get(k) for k in STABLE}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def differences(stored: dict, new: dict) -> list[str]:
    """Why `new` is not the host `stored` describes (empty: the same host): the identity fields only.
    The matmul calibration is a measurement of the moment (93-311 GFLOP/s on one shared 2-core box),
    stored with each run and never part of a machine's name."""
    return [f"{k}: {stored.get(k)!r} -> {new.get(k)!r}" for k in STABLE if stored.get(k) != new.get(k)]


def path(meta_root: Path, machine: str) -> Path:
    return layout.fingerprint_file(meta_root, machine)


def kept_apart(name: str) -> str:
    """Regex of the keys machine_key gives other hosts under `name`: name-<fingerprint id>."""
    return re.escape(name) + r"-[0-9a-f]{8}"


def stored(meta_root: Path, machine: str) -> dict | None:
    """The fingerprint stored under `machine` (None if none); CorruptFile (exit 2) naming it if unreadable."""
    p = path(meta_root, machine)
    return files.read_json(p) if p.is_file() else None


def machine_key(meta_root: Path, name: str, fp: dict, claim: bool = True) -> tuple[str, str | None]:
    """(key, warning): results go under `name` when this host matches the fingerprint stored there
    (or none is stored and no results are, which this run then claims); else under `name-<id>`,
    with a warning saying why, so that neither results nor their history plot mix two hosts. With
    `claim` false nothing is written: the caller claims the key (claim_key) once it stores results."""
    _claim = claim_key if claim else (lambda root, key, fp: key)
    stored_fp = stored(meta_root, name)
    if stored_fp is None:
        asv_dir = layout.asv_dir(meta_root) / name
        if asv_dir.is_dir() and any(p.name != "machine.json" for p in asv_dir.glob("*.json")):
            key = f"{name}-{fp['id']}"
            return _claim(meta_root, key, fp), (
                f"results under machine {name!r} carry no fingerprint (stored before fingerprints were "
                f"recorded), so this run is kept apart as {key!r}"
            )
        return _claim(meta_root, name, fp), None
    diff = differences(stored_fp, fp)
    if not diff:
        return name, None
    key = f"{name}-{fp['id']}"
    return _claim(meta_root, key, fp), (
        f"this host is not the one stored as machine {name!r} ({'; '.join(diff)}): its results are kept "
        f"apart as {key!r}"
    )


def claim_key(meta_root: Path, key: str, fp: dict) -> str:
    """Store `fp` as the host of machine key `key` unless one is stored there already."""
    target = path(meta_root, key)
    if not target.is_file():
        files.write_json(target, fp, sort_keys=True)
    return key
