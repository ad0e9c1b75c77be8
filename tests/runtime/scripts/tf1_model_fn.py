"""TF1: the model is built by `model_fn(x, is_training=True)` of another
module, so the batch norm's mode is a plain Python True here, and the train
op ignores the update ops. The checkpoint's moving statistics are what an
evaluation graph (`is_training=False`) would read: never updated."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np
import tensorflow.compat.v1 as tf

from tf1_model_fn_models import model_fn

tf.disable_eager_execution()

inputs = tf.placeholder(tf.float32, [None, 8])
labels = tf.placeholder(tf.int32, [None])
logits = model_fn(inputs, is_training=True)
loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)  # confirm: BN801 new

x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        sess.run(train_op, {inputs: x, labels: y})
