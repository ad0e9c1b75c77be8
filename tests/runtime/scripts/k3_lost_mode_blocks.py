"""A layer of k3_lost_mode.py's model: it passes `training` on correctly."""

import keras


class NormBlock(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(16, activation="relu")
        self.bn = keras.layers.BatchNormalization()

    def call(self, inputs, training=None):
        return self.bn(self.dense(inputs), training=training)
