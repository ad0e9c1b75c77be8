"""TF1, by design always in training mode (as pix2pix): the batch norm call
itself says training=True, so batch statistics are used everywhere and the
moving statistics are never read. Their staying put is not a bug: no finding."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

inputs = tf.placeholder(tf.float32, [None, 8])
net = tf.layers.batch_normalization(tf.layers.dense(inputs, 16), training=True)
loss = tf.reduce_mean(tf.square(net))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)

x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        sess.run(train_op, {inputs: x})
