from tensorflow import keras
class Base(keras.Model):
    pass
class Net(Base):
    def __init__(self):
        super().__init__()
        self.drop = keras.layers.Dropout(0.3)
    def call(self, inputs, training=None, **kwargs):  # expect: BN002
        return self.drop(inputs)
