"""Keras 3's Adam in the spec's PyTorch/optax form, for every Keras-based implementation.

Keras' own Adam uses the "epsilon hat" form (eps added to sqrt(v), lr scaled by the bias
corrections); the spec divides by sqrt(v_hat) + eps, so update_step differs in that one line.
Importing this imports keras: the importer has fixed its backend first.
"""

from __future__ import annotations

import contextlib

import keras


class TorchFormAdam(keras.optimizers.Adam):
    """Adam with w -= lr * m_hat / (sqrt(v_hat) + eps), the PyTorch/optax form."""

    # The profiler's annotation around the update. Keras names the update's scope on JAX and
    # TensorFlow (at trace time, free); on PyTorch nothing does, so keras_torch.py sets
    # torch.profiler.record_function (about a microsecond a step, outside any kernel).
    annotate = staticmethod(contextlib.nullcontext)

    def apply(self, grads, trainable_variables=None):
        with self.annotate("optimizer"):
            return super().apply(grads, trainable_variables)

    def update_step(self, gradient, variable, learning_rate):
        ops = keras.ops
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        b1, b2 = ops.cast(self.beta_1, variable.dtype), ops.cast(self.beta_2, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (gradient - m) * (1 - b1))
        self.assign_add(v, (ops.square(gradient) - v) * (1 - b2))
        m_hat = m / (1 - ops.power(b1, step))
        v_hat = v / (1 - ops.power(b2, step))
        self.assign_sub(variable, lr * m_hat / (ops.sqrt(v_hat) + self.epsilon))
