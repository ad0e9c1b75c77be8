"""TF1: the buggy train op is only built by a helper module's function that
the run never calls (without --legacy); the train op that runs is grouped
with the update ops. The session then crashes on a missing feed."""

import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

import tf1_legacy_model

tf.disable_eager_execution()

inputs = tf.placeholder(tf.float32, [None, 8])
is_training = tf.placeholder_with_default(True, (), name="is_training")
net = tf.layers.batch_normalization(tf.layers.dense(inputs, 16), training=is_training)
loss = tf.reduce_mean(tf.square(net))
if "--legacy" in sys.argv:
    train_op = tf1_legacy_model.legacy_train_op(inputs, is_training)
else:
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    train_op = tf.group(step, *tf.get_collection(tf.GraphKeys.UPDATE_OPS))

x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_op, {inputs: x})
    sess.run(train_op)  # the placeholder is not fed: InvalidArgumentError
