"""The textbook JAX loop: an LSTM cell in lax.scan, optax.adam, one jitted step."""


def make_step(batch_size: int, device: str = "cpu"):
    import impls.jax_lstm  # noqa: F401  the harness model's XLA thread flags and float32 matmul precision
    import jax
    import jax.numpy as jnp
    import optax

    dev = jax.devices("gpu" if device == "gpu" else "cpu")[0]
    k1, k2, k3, k4, k5 = jax.random.split(jax.random.PRNGKey(0), 5)
    params = {
        "w": jax.random.normal(k1, (28 + 128, 512)) * 0.05,
        "b": jnp.zeros(512),
        "wo": jax.random.normal(k2, (128, 10)) * 0.05,
        "bo": jnp.zeros(10),
    }
    tx = optax.adam(1e-3)

    def loss_fn(p, x, y):
        def cell(carry, xt):
            h, c = carry
            i, f, g, o = jnp.split(jnp.concatenate([xt, h], -1) @ p["w"] + p["b"], 4, -1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        h0 = jnp.zeros((x.shape[0], 128))
        (h, _), _ = jax.lax.scan(cell, (h0, h0), jnp.swapaxes(x, 0, 1))
        logits = h @ p["wo"] + p["bo"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def train(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    state = {"p": jax.device_put(params, dev), "s": None}
    state["s"] = tx.init(state["p"])
    x = jax.device_put(jax.random.uniform(k3, (batch_size, 28, 28)), dev)
    y = jax.device_put(jax.random.randint(k4, (batch_size,), 0, 10), dev)

    def step():
        state["p"], state["s"], loss = train(state["p"], state["s"], x, y)
        return loss

    return step, jax.block_until_ready
