import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers as L
model = keras.Sequential([L.Dense(4), L.Dropout(0.5)])
with tf.GradientTape(persistent=True) as tape, tf.device("/cpu:0"):
    y = model(x, training=True)  # expect: BN001
