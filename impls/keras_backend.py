"""Fix Keras' backend for this process before keras is imported (imports no framework)."""

from __future__ import annotations

import os
import sys


def select(backend: str) -> None:
    """Set KERAS_BACKEND to `backend`; ImportError, leaving the environment as it was, when this process
    already holds keras on another backend (keras-<backend> then runs in a process of its own)."""
    loaded = sys.modules.get("keras")
    if loaded is not None and loaded.backend.backend() != backend:
        raise ImportError(
            f"keras is already loaded on the {loaded.backend.backend()!r} backend in this process; "
            f"keras-{backend} runs in a process of its own (as run, compare and the tests start it)"
        )
    os.environ["KERAS_BACKEND"] = backend
