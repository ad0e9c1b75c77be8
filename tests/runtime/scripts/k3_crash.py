"""Keras 3: one buggy step runs, then the script crashes (a shape mistake)."""

import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.Input((8,)), tf.keras.layers.Dense(16), tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(2),
])
optimizer = tf.keras.optimizers.SGD(0.1)
x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")

with tf.GradientTape() as tape:
    loss = tf.reduce_mean(model(x) ** 2)  # confirm: BN001 confirmed
optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


def evaluate(batch):
    return model(batch.reshape(8, 32), training=False)


evaluate(x)
