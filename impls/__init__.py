"""Three equivalent sequential-MNIST LSTMs (PyTorch, TensorFlow, JAX) behind one interface.

Importing this package imports no framework: `load(name)` imports one on demand.
"""
from __future__ import annotations

import importlib

from .base import DEVICES, PRECISIONS, DeviceUnavailable, LSTMModel, PrecisionUnavailable
from .config import SEQUENCES, LSTMConfig, sequence_config
from .weights import init_weights

FRAMEWORKS = ("torch", "tensorflow", "jax")

# framework -> (implementation module, pip requirement to suggest)
_REGISTRY = {
    "torch": ("impls.torch_lstm", "torch==2.13.0"),
    "tensorflow": ("impls.tf_lstm", "tensorflow-cpu (or tensorflow for GPU)"),
    "jax": ("impls.jax_lstm", "jax optax"),
}
# Implementation variants: "fused" is each framework's library LSTM on its fast path (the default);
# "cell" an explicit per-step loop from primitives; the rest are named compile modes.
VARIANTS: dict[str, dict[str, str]] = {
    "torch": {"fused": "TorchLSTM", "cell": "TorchCellLSTM", "compile": "TorchCompiledLSTM"},
    "tensorflow": {"fused": "TensorFlowLSTM", "xla": "TensorFlowXLALSTM", "cell": "TensorFlowCellLSTM"},
    "jax": {"fused": "JaxLSTM", "cell": "JaxCellLSTM"},
}


class FrameworkUnavailable(ImportError):
    """A framework's implementation cannot be imported here (not installed or broken)."""


class UnknownImplementation(ValueError):
    """A framework or variant name this package does not have."""


def load(name: str, variant: str = "fused") -> type[LSTMModel]:
    """The implementation class for `name` (and `variant`); FrameworkUnavailable says what to install."""
    if name not in _REGISTRY:
        raise UnknownImplementation(f"unknown framework {name!r}; choose from {FRAMEWORKS}")
    if variant not in VARIANTS[name]:
        raise UnknownImplementation(f"unknown variant {variant!r} for {name}; choose from {tuple(VARIANTS[name])}")
    module_name, requirement = _REGISTRY[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FrameworkUnavailable(
            f"{name} is not available ({exc}); install it with: pip install {requirement}"
        ) from exc
    return getattr(module, VARIANTS[name][variant])


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
    "PRECISIONS",
    "PrecisionUnavailable",
    "SEQUENCES",
    "UnknownImplementation",
    "VARIANTS",
    "available",
    "init_weights",
    "sequence_config",
    "load",
]
