"""Keras 3 on JAX: fit() of a subclassed model whose call() has no
`training` parameter (BN002); 2 epochs of 4 batches. Prints whether the
process loaded TensorFlow (the checker must not)."""

import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402


class SmallNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(16, activation="relu")
        self.bn = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(2)

    def call(self, inputs):  # confirm: BN002 confirmed
        return self.out(self.bn(self.dense(inputs)))


x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
model = SmallNet()
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
try:
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
finally:
    print("tensorflow loaded:", "tensorflow" in sys.modules, file=sys.stderr)
