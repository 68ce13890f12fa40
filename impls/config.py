"""The one model specification every framework implements."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LSTMConfig:
    """Sequential-MNIST LSTM: shapes and Adam hyper-parameters (PyTorch/optax epsilon form)."""

    n_input: int = 28
    n_steps: int = 28
    n_hidden: int = 128
    n_classes: int = 10
    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    forget_bias: float = 1.0

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Canonical layout: gate order i, f, g, o along the 4H axis."""
        i, h, c = self.n_input, self.n_hidden, self.n_classes
        return {
            "lstm/kernel": (i, 4 * h),
            "lstm/recurrent_kernel": (h, 4 * h),
            "lstm/bias": (4 * h,),
            "head/kernel": (h, c),
            "head/bias": (c,),
        }
