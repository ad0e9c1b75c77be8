from tensorflow.contrib import slim
import tensorflow as tf
net = slim.conv2d(x, 32, [3, 3], normalizer_fn=slim.batch_norm)
opt = tf.train.MomentumOptimizer(0.1, 0.9)
grads = opt.compute_gradients(loss)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = opt.apply_gradients(grads)  # expect: BN003
