"""A TF1 graph whose Keras BatchNormalization gets no `training` (BN109): it
follows the learning phase, 0, so even with its own `.updates` in the train
op's dependencies the moving statistics never move."""

import tensorflow as tf


def graph_without_training(data, run):
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 4])
        bn = tf.keras.layers.BatchNormalization()
        h = bn(x)  # confirm: BN109 confirmed
        loss = tf.reduce_mean(tf.square(tf.compat.v1.layers.dense(h, 1)))
        with tf.control_dependencies(bn.updates):
            train = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        run(train, x, data)
