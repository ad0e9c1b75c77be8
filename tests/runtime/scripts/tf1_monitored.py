"""TF1: a MonitoredTrainingSession with hooks; the session hands Session.run
a fetch dict keyed by the hook objects. The train op ignores the update ops
(BN003), and --max-steps stops the loop although the hook would run 10 steps."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

data = np.random.RandomState(0).normal(size=(32, 8)).astype("float32")
inputs = tf.placeholder_with_default(data, [None, 8])
is_training = tf.placeholder_with_default(True, (), name="is_training")
net = tf.layers.batch_normalization(tf.layers.dense(inputs, 16), training=is_training)
loss = tf.reduce_mean(tf.square(net))
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)  # confirm: BN003 confirmed
hooks = [tf.train.StopAtStepHook(last_step=10), tf.train.NanTensorHook(loss)]
with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
    while not sess.should_stop():
        sess.run(train_op)
print("the loop ended by itself")
