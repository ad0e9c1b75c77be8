"""Keras 3: the mode is lost in a helper of another module (`model(batch)`
without `training`), while the layer's own call passes `training` on. The
runtime finding points at the helper's call, not at the layer's line."""

import numpy as np
import keras
import tensorflow as tf

from k3_lost_mode_blocks import NormBlock
from k3_lost_mode_steps import predict_logits

model = keras.Sequential([keras.Input((8,)), NormBlock(), keras.layers.Dense(2)])
optimizer = keras.optimizers.SGD(0.1)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
for step in range(3):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, predict_logits(model, x))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
