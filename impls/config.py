"""The one model specification every framework implements."""

from __future__ import annotations

from dataclasses import dataclass

# Training budgets, defined once: the accuracy benchmarks and `train` (epochs of the 28-step row task;
# `run --quick` uses QUICK_EPOCHS), and the 784-step pixel/permuted accuracy benchmarks.
EPOCHS = 5
QUICK_EPOCHS = 1
SEQUENCE_EPOCHS = 1
# Seeds (init and batch order) behind each accuracy of the accuracy suite: accuracy changes are judged
# against the seed-to-seed spread. `run --quick` trains one.
ACCURACY_SEEDS = 3


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


# Sequence variants: how a 28x28 image becomes a sequence (bench.workload.data.as_sequence builds the view).
# row: 28 steps of 28 pixels (the classic); pixel: 784 steps of 1 pixel; permuted: pixel with one
# fixed seeded permutation of the 784 positions, shared by every framework.
SEQUENCES = {"row": (28, 28), "pixel": (784, 1), "permuted": (784, 1)}


def sequence_config(sequence: str = "row", **overrides) -> LSTMConfig:
    """LSTMConfig for a sequence variant (n_steps, n_input set from SEQUENCES)."""
    if sequence not in SEQUENCES:
        raise ValueError(f"unknown sequence {sequence!r}; choose from {tuple(SEQUENCES)}")
    n_steps, n_input = SEQUENCES[sequence]
    return LSTMConfig(n_steps=n_steps, n_input=n_input, **overrides)
