"""BN001 example: a custom training loop over a model with BatchNormalization.

examples/buggy calls the model inside the tape without training=True, so
BN runs in inference mode: it normalises with its moving statistics (0 and
1) and never updates them; the printed moving mean stays 0.
examples/fixed passes training=True (what `bnlint --fix` writes), and the
moving mean moves.
"""

import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(2),
])
optimizer = tf.keras.optimizers.SGD(0.1)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = loss_fn(labels, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for step in range(3):
    train_step(x, y)
print("moving mean:", model.layers[1].moving_mean.numpy()[:3])
