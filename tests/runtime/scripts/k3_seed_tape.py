"""Seed scenario (Keras 3): a model trained from scratch in an eager
GradientTape loop, called without training=True. BatchNormalization runs in
inference mode, so its moving statistics stay at 0 and 1."""

import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.Input((8,)),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(2),
])
optimizer = tf.keras.optimizers.SGD(0.1)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")

for step in range(3):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))  # confirm: BN001 confirmed
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
bn = model.layers[1]
print("moving_mean", bn.moving_mean.numpy()[:2], "moving_variance", bn.moving_variance.numpy()[:2])
