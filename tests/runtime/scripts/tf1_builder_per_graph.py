"""TF1: one builder called per experiment, each in a fresh graph and session,
the train op run through a tf.group: twice without batch norm, then with a
batch norm whose UPDATE_OPS the train op skips. The line built three train
ops; the one that ran without the updates confirms BN003."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_eager_execution()
data = np.random.RandomState(0).normal(size=(16, 4)).astype("float32")


def experiment(batch_norm):
    graph = tf.Graph()
    with graph.as_default():
        net = tf.layers.dense(tf.placeholder_with_default(data, [None, 4]), 8)
        if batch_norm:
            net = tf.layers.batch_normalization(net, training=tf.placeholder_with_default(True, ()))
        loss = tf.reduce_mean(tf.square(net))
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)  # confirm: BN003 confirmed
        step = tf.group(train_op, name="step")
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(step)


experiment(False)
experiment(False)
experiment(True)
