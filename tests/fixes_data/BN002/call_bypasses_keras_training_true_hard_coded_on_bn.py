from tensorflow.keras import layers as L
import tensorflow as tf
class Block(L.Layer):
    def __init__(self):
        super().__init__()
        self.bn = L.BatchNormalization()
        self.bn2 = L.BatchNormalization()
    def call(self, x, training=None):
        x = self.bn(x)  # expect: BN002
        return self.bn2(x, training=training)  # expect: BN002
