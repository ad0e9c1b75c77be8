import keras
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.backbone = keras.applications.MobileNetV2(include_top=False)
        self.head_bn = keras.layers.BatchNormalization()
    def call(self, x, training=None):
        f = self.backbone(x, training=False)
        return self.head_bn(f, training=training)  # expect: BN002
