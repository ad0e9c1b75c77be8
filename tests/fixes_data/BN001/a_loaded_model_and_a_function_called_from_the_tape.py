import tensorflow as tf
model = tf.keras.models.load_model("m.keras")
def forward(x):
    return model(x, training=True)  # expect: BN001
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(forward(x))
grads = tape.gradient(loss, model.trainable_variables)
