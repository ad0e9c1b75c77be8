import tensorflow as tf
class Block(tf.keras.layers.Layer):
    def call(self, x, training=None):
        return tf.compat.v1.layers.batch_normalization(x, training=training)  # expect: BN002
