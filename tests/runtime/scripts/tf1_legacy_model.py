"""A helper module for tf1_untaken_crash.py: an older model builder whose
train op ignores the update ops. The script imports it but never calls it."""

import tensorflow.compat.v1 as tf


def legacy_train_op(inputs, is_training):
    net = tf.layers.batch_normalization(tf.layers.dense(inputs, 16), training=is_training)
    loss = tf.reduce_mean(tf.square(net))
    return tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)  # confirm: BN003 not reached
