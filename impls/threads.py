"""One CPU thread budget for every framework: set before a framework is imported, and recorded."""

from __future__ import annotations

import os

ENV = "SEQMNIST_THREADS"


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask; the machine's count where there is none)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_budget() -> int:
    """Threads a framework may use: $SEQMNIST_THREADS, else every core this process may run on."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return usable_cores()
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"{ENV} must be a positive integer, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{ENV} must be a positive integer, got {value!r}")
    return n


def apply_thread_budget() -> int:
    """Pin this process to `thread_budget()` cores and set the generic thread variables; return it.

    The affinity mask binds frameworks that size their pools from the visible cores (XLA);
    the variables bind OpenMP/MKL. Each implementation also sets its own intra-op knob.
    """
    n = thread_budget()
    if hasattr(os, "sched_setaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        if n < len(allowed):
            os.sched_setaffinity(0, allowed[:n])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(n))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    return n
