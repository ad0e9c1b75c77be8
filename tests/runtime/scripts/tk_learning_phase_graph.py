"""tf_keras, graph mode: `set_learning_phase(0)` before `fit()` (BN106): the
Sequential model's layers take the global phase, so batch norm never trains."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.keras import backend as K  # noqa: E402

tf.compat.v1.disable_eager_execution()
K.set_learning_phase(0)  # confirm: BN106 confirmed
model = tf.keras.Sequential([tf.keras.layers.Dense(4, input_shape=(8,)), tf.keras.layers.BatchNormalization(),
                             tf.keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
model.fit(x, x.sum(axis=1), batch_size=16, epochs=1, verbose=0)
