"""The fixed TF1 graph for tf1_keras_update_ops.py: the train op depends on
the Keras layer's own `.updates`, and the builder gets `training=True`."""

import tensorflow as tf


def run(train, x, data):
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {x: data})


def fixed_graph(data):
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 4])
        bn = tf.keras.layers.BatchNormalization()
        h = bn(x, training=True)
        z = tf.compat.v1.layers.batch_normalization(tf.compat.v1.layers.dense(x, 4), training=True)
        loss = tf.reduce_mean(tf.square(h)) + tf.reduce_mean(tf.square(z))
        opt = tf.compat.v1.train.GradientDescentOptimizer(0.1)
        updates = bn.updates + tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        with tf.control_dependencies(updates):
            train = opt.minimize(loss)
        run(train, x, data)
