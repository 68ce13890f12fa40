"""The canonical NumPy initializer and the weight-dict checks shared by every framework."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .config import LSTMConfig


def _glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def _orthogonal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Orthogonal matrix as Keras/Saxe et al. build it: QR of a Gaussian, signs fixed by R's diagonal."""
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T


def init_weights(config: LSTMConfig = LSTMConfig(), seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded float32 weights in the canonical layout; the forget-gate bias is folded in here."""
    rng = np.random.default_rng(seed)
    i, h, c = config.n_input, config.n_hidden, config.n_classes
    bias = np.zeros(4 * h)
    bias[h : 2 * h] = config.forget_bias
    weights = {
        "lstm/kernel": _glorot_uniform(rng, i, 4 * h),
        "lstm/recurrent_kernel": _orthogonal(rng, h, 4 * h),
        "lstm/bias": bias,
        "head/kernel": _glorot_uniform(rng, h, c),
        "head/bias": np.zeros(c),
    }
    return {k: v.astype(np.float32) for k, v in weights.items()}


def check_weights(weights: Mapping[str, np.ndarray], config: LSTMConfig) -> dict[str, np.ndarray]:
    """Validate keys, shapes and finiteness; return float32 copies. ValueError names the offender."""
    expected = config.weight_shapes()
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing:
        raise ValueError(f"set_weights: missing weight(s) {missing}; expected keys {sorted(expected)}")
    if extra:
        raise ValueError(f"set_weights: unexpected weight(s) {extra}; expected keys {sorted(expected)}")
    out = {}
    for key, shape in expected.items():
        arr = np.asarray(weights[key], dtype=np.float32)
        if arr.shape != shape:
            raise ValueError(f"set_weights: {key!r} has shape {arr.shape}, expected {shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"set_weights: {key!r} contains non-finite values")
        out[key] = np.array(arr, copy=True)
    return out
