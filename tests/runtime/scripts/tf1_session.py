"""TF1 graph code (tf.compat.v1 with a Session, tf_keras underneath): the
first train op ignores the batch norm UPDATE_OPS (BN003); the second is
built the same way, but the loop fetches the update ops with it (through a
collection key built at run time, which the static rule cannot follow), so
the statistics do update and the runtime refutes that finding."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

inputs = tf.placeholder(tf.float32, [None, 8])
labels = tf.placeholder(tf.int32, [None])
is_training = tf.placeholder_with_default(True, (), name="is_training")
net = tf.layers.dense(inputs, 16, activation=tf.nn.relu)
net = tf.layers.batch_normalization(net, training=is_training)
logits = tf.layers.dense(net, 2)
loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)

train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)  # confirm: BN003 confirmed
other_op = tf.train.AdamOptimizer(0.01).minimize(loss)  # confirm: BN003 refuted
collection_key = "_".join(["update", "ops"])
batch_norm_updates = tf.get_default_graph().get_collection(collection_key)

x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_op, {inputs: x, labels: y})
    sess.run([other_op, batch_norm_updates], {inputs: x, labels: y})
