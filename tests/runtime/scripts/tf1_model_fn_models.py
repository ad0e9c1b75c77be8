"""The model builder of tf1_model_fn.py: batch norm whose mode is a parameter."""

import tensorflow.compat.v1 as tf


def model_fn(inputs, is_training):
    net = tf.layers.dense(inputs, 16, activation=tf.nn.relu)
    net = tf.layers.batch_normalization(net, training=is_training)
    return tf.layers.dense(net, 2)
