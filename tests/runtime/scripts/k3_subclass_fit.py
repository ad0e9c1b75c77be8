"""Keras 3: a subclassed model whose call() has no `training` parameter, so
fit() never passes training=True (BN002). A second model is called in a tape
with a `training` flag variable that is False: statically fine (a variable),
but its batch norm never updates, a runtime-only finding."""

import numpy as np
import keras
import tensorflow as tf


class SmallNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(16, activation="relu")
        self.bn = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(2)

    def call(self, inputs):  # confirm: BN002 confirmed
        return self.out(self.bn(self.dense(inputs)))


x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
model = SmallNet()
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, batch_size=16, epochs=1, verbose=0)

other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
optimizer = keras.optimizers.SGD(0.1)
freeze_stats = False
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(other(x, training=freeze_stats))  # confirm: BN801 new
optimizer.apply_gradients(zip(tape.gradient(loss, other.trainable_variables), other.trainable_variables))
