"""The static rule sees a Keras model with batch norm called without
`training` in a tape; at run time the name holds a plain function instead
(as a stand-in for an exported graph), so nothing under the call is a Keras
layer. The runtime says so rather than "this code never ran"."""

import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.BatchNormalization()])
weights = tf.Variable(tf.ones((8,)))
if __name__ == "__main__":
    model = lambda batch: batch * weights  # noqa: E731
optimizer = tf.keras.optimizers.SGD(0.1)
x = np.ones((4, 8), "float32")
for step in range(2):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x))  # confirm: BN001 unchecked
    optimizer.apply_gradients([(tape.gradient(loss, weights), weights)])
if step > 5:
    loss = model(x)
