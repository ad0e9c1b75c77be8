"""TF1: the update ops are fetched in one sess.run, so the static rule trusts
the whole file; but the plain train op's runs never update the statistics.
The runtime reports that train op as a runtime finding."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

inputs = tf.placeholder(tf.float32, [None, 8])
is_training = tf.placeholder_with_default(True, (), name="is_training")
net = tf.layers.batch_normalization(tf.layers.dense(inputs, 16), training=is_training)
loss = tf.reduce_mean(tf.square(net))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)  # confirm: BN801 new
finetune_op = tf.train.AdamOptimizer(0.01).minimize(loss)
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)

x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_op, {inputs: x})
    sess.run(train_op, {inputs: x})
    sess.run([finetune_op, update_ops], {inputs: x})
