"""A subclassed model whose call() keeps the training mode (BN002 fixed)."""

import numpy as np
import keras


class SmallNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(16, activation="relu")
        self.bn = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(2)

    def call(self, inputs, training=None):
        return self.out(self.bn(self.dense(inputs)))


model = SmallNet()
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
model.fit(x, y, epochs=1, verbose=0)
print("moving mean:", np.asarray(model.bn.moving_mean)[:3])
