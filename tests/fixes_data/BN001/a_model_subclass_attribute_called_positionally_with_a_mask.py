import keras
class GAN(keras.Model):
    def __init__(self, generator):
        super().__init__()
        self.generator = generator
    def train_step(self, data):
        with tf.GradientTape() as tape:
            fake = self.generator(data, mask, training=True)  # expect: BN001
        grads = tape.gradient(fake, self.generator.trainable_weights)
        return {}
