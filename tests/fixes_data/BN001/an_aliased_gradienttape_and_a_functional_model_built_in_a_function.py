from tensorflow.keras.layers import BatchNormalization as BN
from tensorflow.keras import layers, Model, Input
from tensorflow import GradientTape as Tape
def build():
    inp = Input((8,))
    x = layers.Dense(8)(inp)
    x = BN()(x)
    return Model(inp, x)
net = build()
with Tape() as t:
    out = net(batch, training=True)  # expect: BN001
t.gradient(out, net.trainable_variables)
