import tensorflow.compat.v1 as tf
net = tf.layers.batch_normalization(x, training=is_training)
with tf.control_dependencies([other_op]):
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = tf.train.AdamOptimizer().minimize(loss)  # expect: BN003
