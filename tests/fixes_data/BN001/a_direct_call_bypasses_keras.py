import tensorflow as tf
net = tf.keras.applications.ResNet50(weights=None)
with tf.GradientTape() as tape:
    y = net(x, training=True)  # expect: BN001
g = tape.gradient(y, net.trainable_variables)
