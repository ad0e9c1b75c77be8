"""TF1: a session loop that never ends, with the BN003 bug."""

import os
import time

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

inputs = tf.placeholder(tf.float32, [None, 8])
is_training = tf.placeholder_with_default(True, (), name="is_training")
net = tf.layers.batch_normalization(tf.layers.dense(inputs, 16), training=is_training)
loss = tf.reduce_mean(tf.square(net))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)  # confirm: BN003 confirmed

x = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    while True:
        sess.run(train_op, {inputs: x})
        time.sleep(0.2)
