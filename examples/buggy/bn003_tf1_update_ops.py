"""BN003 example: TF1 graph code with batch norm and a train op.

tf.compat.v1.layers.batch_normalization puts its moving-average updates in
tf.GraphKeys.UPDATE_OPS; nothing runs them unless the train op depends on
them. examples/buggy builds the train op without that dependency, so the
moving statistics stay at 0 and 1; examples/fixed creates it under
control_dependencies (what `bnlint --fix` writes). Needs tf_keras on
TF >= 2.16 (TF_USE_LEGACY_KERAS=1).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

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

train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)

x = np.random.RandomState(0).normal(3.0, 2.0, size=(64, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(3):
        sess.run(train_op, {inputs: x, labels: y})
    mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    print("moving mean:", sess.run(mean)[:3])
