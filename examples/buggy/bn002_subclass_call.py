"""BN002 example: a subclassed Keras 3 model trained with fit().

Under Keras 3, fit() passes training=True only to a call() that declares a
`training` parameter. examples/buggy's call() does not, so its
BatchNormalization stays in inference mode for the whole fit() (the printed
moving mean stays 0); examples/fixed adds `training=None` (what
`bnlint --fix` writes).
"""

import numpy as np
import keras


class SmallNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(16, activation="relu")
        self.bn = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(2)

    def call(self, inputs):
        return self.out(self.bn(self.dense(inputs)))


model = SmallNet()
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
model.fit(x, y, epochs=1, verbose=0)
print("moving mean:", np.asarray(model.bn.moving_mean)[:3])
