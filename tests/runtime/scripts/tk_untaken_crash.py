"""tf_keras: the buggy loop sits behind a flag the run never sets; the taken
path trains correctly for one step and then crashes."""

import sys

import numpy as np
import tf_keras as keras
import tensorflow as tf

model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization()])
optimizer = keras.optimizers.SGD(0.1)
x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")

with tf.GradientTape() as tape:
    if "--buggy" in sys.argv:
        out = model(x)  # confirm: BN001 not reached
    else:
        out = model(x, training=True)
    loss = tf.reduce_mean(out ** 2)
optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
raise RuntimeError("data loader exhausted")
