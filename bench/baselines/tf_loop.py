"""The Keras-on-TensorFlow custom loop: Sequential LSTM + Dense, GradientTape in a tf.function."""
import os


def make_step(batch_size: int, device: str = "cpu"):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import impls.tf_lstm  # noqa: F401  the harness model's thread budget and float32 (TF32 off) switches
    import keras
    import tensorflow as tf

    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.LSTM(128), keras.layers.Dense(10)])
        opt = keras.optimizers.Adam(1e-3)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        x = tf.random.uniform((batch_size, 28, 28))
        y = tf.random.uniform((batch_size,), 0, 10, dtype=tf.int32)

    @tf.function
    def train(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return (lambda: train(x, y)), (lambda result: result.numpy())
