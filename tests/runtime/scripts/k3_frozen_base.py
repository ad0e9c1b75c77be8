"""Keras 3 transfer learning: a base frozen layer by layer (trainable=False
in a loop, which the static rule does not follow; a plain
`base.trainable = False` it does) with a new head, called without
training=True in the tape. The static rule flags the call; at run time the
only batch norm is frozen, so it would run in inference mode anyway:
refuted."""

import numpy as np
import tensorflow as tf

base = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(16),
                            tf.keras.layers.BatchNormalization()])
for layer in base.layers:
    layer.trainable = False
model = tf.keras.Sequential([base, tf.keras.layers.Dense(2)])
optimizer = tf.keras.optimizers.SGD(0.1)
x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")

for _ in range(2):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x) ** 2)  # confirm: BN001 refuted
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
