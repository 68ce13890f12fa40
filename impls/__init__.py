"""Five equivalent sequential-MNIST LSTMs behind one interface (base.py, to config.py's specification,
from weights.py's canonical initializer, with threads.py's thread budget): PyTorch (torch_lstm.py),
TensorFlow (tf_lstm.py), JAX (jax_lstm.py) and Keras 3 on JAX and on PyTorch (keras_lstm.py with
keras_jax.py, keras_torch.py, keras_backend.py, keras_adam.py); registry.py finds them and any plugin,
trace_events.py reads the profilers' traces.

Importing this package imports no framework: `load(name)` imports one on demand.
"""

from __future__ import annotations

import importlib

from .base import DEVICES, PRECISIONS, DeviceUnavailable, LSTMModel, OpTime, PrecisionUnavailable
from .config import SEQUENCES, LSTMConfig, sequence_config
from .registry import plugins
from .weights import init_weights

FRAMEWORKS = tuple(plugins())  # registered through the seqmnist_bench.frameworks entry points
# Each framework's implementation variants, read from its classes' `variant` (the default "fused",
# the library LSTM on its fast path, first; "cell" an explicit per-step loop; the rest compile modes).
VARIANTS: dict[str, tuple[str, ...]] = {name: p.variants for name, p in plugins().items()}


class FrameworkUnavailable(ImportError):
    """A framework's implementation cannot be imported here (not installed or broken)."""


class UnknownImplementation(ValueError):
    """A framework or variant name this package does not have."""


def load(name: str, variant: str = "fused") -> type[LSTMModel]:
    """The implementation class for `name` (and `variant`); FrameworkUnavailable says what to install."""
    if name not in FRAMEWORKS:
        raise UnknownImplementation(f"unknown framework {name!r}; choose from {FRAMEWORKS}")
    if variant not in VARIANTS[name]:
        raise UnknownImplementation(f"unknown variant {variant!r} for {name}; choose from {VARIANTS[name]}")
    plugin = plugins()[name]
    try:
        module = importlib.import_module(plugin.module)
    except ImportError as exc:
        raise FrameworkUnavailable(
            f"{name} is not available ({exc}); install it with: pip install {plugin.requirement}"
        ) from exc
    for cls in vars(module).values():
        if (
            isinstance(cls, type)
            and issubclass(cls, LSTMModel)
            and cls.__module__ == module.__name__
            and cls.__dict__.get("variant") == variant
        ):
            return cls
    raise UnknownImplementation(f"{plugin.module} declares variant {variant!r} but has no LSTMModel class for it")


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
    "OpTime",
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
