import tensorflow as tf
class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.bn = tf.keras.layers.BatchNormalization()
    def call(self, x, training=None):
        return self.bn(x, training=training)
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            pred = self(x, training=True)  # expect: BN001
            loss = self.compiled_loss(y, pred)
        return {}
