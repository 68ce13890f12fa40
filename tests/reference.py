"""An independent float64 NumPy LSTM + Adam, written from the equations, for equivalence tests."""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(w: dict, x: np.ndarray):
    """Logits and the per-step cache; gate order i, f, g, o; zero initial state."""
    x = x.astype(np.float64)
    b, t_steps, _ = x.shape
    h_dim = w["lstm/recurrent_kernel"].shape[0]
    h = np.zeros((b, h_dim))
    c = np.zeros((b, h_dim))
    cache = []
    for t in range(t_steps):
        z = x[:, t] @ w["lstm/kernel"] + h @ w["lstm/recurrent_kernel"] + w["lstm/bias"]
        i, f, o = (_sigmoid(z[:, k * h_dim : (k + 1) * h_dim]) for k in (0, 1, 3))
        g = np.tanh(z[:, 2 * h_dim : 3 * h_dim])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        cache.append((x[:, t], h, c, i, f, g, o, c_new))
        h, c = h_new, c_new
    return h @ w["head/kernel"] + w["head/bias"], h, cache


def loss_and_grads(w: dict, x: np.ndarray, y: np.ndarray):
    """Mean softmax cross-entropy and its gradient by backpropagation through time."""
    logits, h_last, cache = forward(w, x)
    b = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(b), y]))
    dlogits = p.copy()
    dlogits[np.arange(b), y] -= 1.0
    dlogits /= b
    grads = {k: np.zeros_like(v) for k, v in w.items()}
    grads["head/kernel"] = h_last.T @ dlogits
    grads["head/bias"] = dlogits.sum(axis=0)
    dh = dlogits @ w["head/kernel"].T
    dc = np.zeros_like(dh)
    for x_t, h_prev, c_prev, i, f, g, o, c_t in reversed(cache):
        tc = np.tanh(c_t)
        do = dh * tc
        dc = dc + dh * o * (1.0 - tc**2)
        dz = np.concatenate(
            [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), do * o * (1 - o)], axis=1
        )
        grads["lstm/kernel"] += x_t.T @ dz
        grads["lstm/recurrent_kernel"] += h_prev.T @ dz
        grads["lstm/bias"] += dz.sum(axis=0)
        dh = dz @ w["lstm/recurrent_kernel"].T
        dc = dc * f
    return loss, grads


class ReferenceAdam:
    """w -= lr * m_hat / (sqrt(v_hat) + eps): the PyTorch/optax form the spec fixes."""

    def __init__(self, weights: dict, lr: float, beta1: float, beta2: float, eps: float):
        self.w = {k: v.astype(np.float64) for k, v in weights.items()}
        self.m = {k: np.zeros_like(v) for k, v in self.w.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.w.items()}
        self.lr, self.b1, self.b2, self.eps, self.t = lr, beta1, beta2, eps, 0
        # Smallest |gradient| each weight has seen: where it is near eps, Adam's step is decided
        # by float32 rounding (m_hat / (|g| + eps) flips with the last bits), not by the model.
        self.min_abs_grad = {k: np.full_like(v, np.inf) for k, v in self.w.items()}

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss, grads = loss_and_grads(self.w, x, y)
        self.t += 1
        for k, g in grads.items():
            self.min_abs_grad[k] = np.minimum(self.min_abs_grad[k], np.abs(g))
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
            m_hat = self.m[k] / (1 - self.b1**self.t)
            v_hat = self.v[k] / (1 - self.b2**self.t)
            self.w[k] = self.w[k] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return loss
