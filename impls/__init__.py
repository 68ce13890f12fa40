"""Three equivalent sequential-MNIST LSTMs (PyTorch, TensorFlow, JAX) behind one interface.

Importing this package imports no framework: `load(name)` imports one on demand.
"""
from __future__ import annotations

import importlib

from .base import DEVICES, DeviceUnavailable, LSTMModel
from .config import LSTMConfig
from .weights import init_weights

FRAMEWORKS = ("torch", "tensorflow", "jax")

# framework -> (implementation module, class name, pip requirement to suggest)
_REGISTRY = {
    "torch": ("impls.torch_lstm", "TorchLSTM", "torch==2.13.0"),
    "tensorflow": ("impls.tf_lstm", "TensorFlowLSTM", "tensorflow-cpu (or tensorflow for GPU)"),
    "jax": ("impls.jax_lstm", "JaxLSTM", "jax optax"),
}


class FrameworkUnavailable(ImportError):
    """A framework's implementation cannot be imported here (not installed or broken)."""


def load(name: str) -> type[LSTMModel]:
    """The implementation class for `name`; FrameworkUnavailable says what to install."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown framework {name!r}; choose from {FRAMEWORKS}")
    module_name, class_name, requirement = _REGISTRY[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FrameworkUnavailable(
            f"{name} is not available ({exc}); install it with: pip install {requirement}"
        ) from exc
    return getattr(module, class_name)


def available() -> dict[str, str | None]:
    """Each framework and why it cannot be used (None when it can)."""
    reasons: dict[str, str | None] = {}
    for name in FRAMEWORKS:
        try:
            load(name)
            reasons[name] = None
        except FrameworkUnavailable as exc:
            reasons[name] = str(exc)
    return reasons


__all__ = [
    "DEVICES",
    "FRAMEWORKS",
    "DeviceUnavailable",
    "FrameworkUnavailable",
    "LSTMConfig",
    "LSTMModel",
    "available",
    "init_weights",
    "load",
]
