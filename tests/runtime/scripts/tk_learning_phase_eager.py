"""tf_keras: `set_learning_phase(0)` before `fit()` in a file that also holds
TF1 graph code (BN106 statically), but this fit() runs eagerly, which
overrides the global phase: batch norm trains."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.keras import backend as K  # noqa: E402


def export_graph(path):
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.train.write_graph(sess.graph_def, path, "empty.pbtxt")


K.set_learning_phase(0)  # confirm: BN106 refuted
model = tf.keras.Sequential([tf.keras.layers.Dense(4, input_shape=(8,)), tf.keras.layers.BatchNormalization(),
                             tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
model.fit(x, x.sum(axis=1), batch_size=16, epochs=1, verbose=0)
