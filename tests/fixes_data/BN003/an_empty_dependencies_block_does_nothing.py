import tensorflow as tf
tf = tf.compat.v1
net = tf.layers.batch_normalization(x, training=is_training)
with tf.control_dependencies([]):
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = tf.train.AdamOptimizer().minimize(loss)  # expect: BN003
