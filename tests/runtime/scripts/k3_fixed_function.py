"""Keras 3, fixed: the same loop in a tf.function with training=True, and a
functional model trained with fit(). Nothing to report. (The step takes a
keyword argument named like one of the checker's own parameters: it must
reach the function.)"""

import numpy as np
import keras
import tensorflow as tf

inputs = keras.Input((8,))
h = keras.layers.Dense(16, activation="relu")(inputs)
h = keras.layers.BatchNormalization()(h)
h = keras.layers.Dropout(0.2)(h)
model = keras.Model(inputs, keras.layers.Dense(2)(h))
optimizer = keras.optimizers.SGD(0.1)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")


@tf.function
def train_step(images, labels, kind="tape"):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


train_step(x, y, kind="tape")
model.compile(optimizer="sgd", loss=loss_fn)
model.fit(x, y, batch_size=16, epochs=1, verbose=0)
