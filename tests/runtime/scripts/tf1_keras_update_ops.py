"""TF1 graphs on tf_keras: first a fixed graph (tf1_keras_updates_fixed.py),
then the bugs: a Keras BatchNormalization without `training`
(tf1_keras_no_training.py, BN109), one relying on the empty UPDATE_OPS
(BN101) and `tf.compat.v1.layers.batch_normalization(z)` without
`training`, which defaults to inference (BN110). 3 train-op runs each."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tf1_keras_no_training import graph_without_training  # noqa: E402
from tf1_keras_updates_fixed import fixed_graph, run  # noqa: E402

tf.compat.v1.disable_eager_execution()
data = np.random.RandomState(0).normal(3.0, 1.0, size=(16, 4)).astype("float32")
fixed_graph(data)
graph_without_training(data, run)

with tf.Graph().as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None, 4])
    h = tf.keras.layers.BatchNormalization()(x, training=True)
    z = tf.compat.v1.layers.batch_normalization(tf.compat.v1.layers.dense(x, 4))  # confirm: BN110 confirmed
    loss = tf.reduce_mean(tf.square(h)) + tf.reduce_mean(tf.square(z))
    opt = tf.compat.v1.train.GradientDescentOptimizer(0.1)
    update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):  # confirm: BN101 confirmed
        train = opt.minimize(loss)
    run(train, x, data)
