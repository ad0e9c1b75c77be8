import keras
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(16, 3)
        self.bn = keras.layers.BatchNormalization()
    def call(self, x, training=None):  # expect: BN002
        return self.bn(self.conv(x))
