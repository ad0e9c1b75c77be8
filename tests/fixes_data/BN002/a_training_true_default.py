import tensorflow as tf
class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.bn = tf.keras.layers.BatchNormalization()
    def call(self, x, training=None):  # expect: BN002
        return self.bn(x, training=training)
