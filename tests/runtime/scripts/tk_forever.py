"""tf_keras: an eager training loop that never ends."""

import time

import numpy as np
import tf_keras as keras
import tensorflow as tf

model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization()])
optimizer = keras.optimizers.legacy.SGD(0.1)
x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")

while True:
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x) ** 2)  # confirm: BN001 confirmed
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    time.sleep(0.2)
