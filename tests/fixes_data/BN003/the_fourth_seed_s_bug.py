import tensorflow as tf
training_node = tf.placeholder_with_default(True, (), name="training")
net = tf.layers.conv2d(input_node, 32, (3, 3))
net = tf.layers.batch_normalization(net, training=training_node)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)  # expect: BN003
