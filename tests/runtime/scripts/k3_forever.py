"""Keras 3: a training loop that never ends (no epoch limit)."""

import time

import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.Input((8,)), tf.keras.layers.Dense(16), tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(2),
])
optimizer = tf.keras.optimizers.SGD(0.1)
x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")


@tf.function
def train_step(batch):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(batch) ** 2)  # confirm: BN001 confirmed
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


while True:
    try:
        train_step(x)
    except Exception:  # a broad handler must not swallow bnlint's stop
        pass
    time.sleep(0.2)
