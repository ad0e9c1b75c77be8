"""tf_keras (Keras 2, TF_USE_LEGACY_KERAS=1): a subclassed model trained in a
tf.function loop, called without training=True (BN001)."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow as tf


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = tf.keras.layers.Dense(16, activation="relu")
        self.bn = tf.keras.layers.BatchNormalization()
        self.drop = tf.keras.layers.Dropout(0.3)
        self.out = tf.keras.layers.Dense(2)

    def call(self, inputs, training=None):
        return self.out(self.drop(self.bn(self.dense(inputs))))


model = Net()
optimizer = tf.keras.optimizers.SGD(0.1)
x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images))  # confirm: BN001 confirmed
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))


for _ in range(3):
    train_step(x, y)
assert "tf_keras" in type(model.bn).__module__, type(model.bn).__module__
