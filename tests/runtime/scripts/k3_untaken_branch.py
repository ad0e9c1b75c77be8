"""Keras 3: the buggy call sits behind a branch the run never takes; the
taken branch is correct. The finding is not reached."""

import os

import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.Input((8,)), tf.keras.layers.Dense(16), tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(2),
])
optimizer = tf.keras.optimizers.SGD(0.1)
x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")

for step in range(2):
    with tf.GradientTape() as tape:
        if os.environ.get("BNLINT_TEST_NEVER_SET"):
            out = model(x)  # confirm: BN001 not reached
        else:
            out = model(x, training=True)
        loss = tf.reduce_mean(out ** 2)
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
