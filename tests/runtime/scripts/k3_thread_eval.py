"""Keras 3: one thread trains a model in a GradientTape while another thread
calls a second, never trained model (evaluation, no tape): that call is not
training code."""

import threading

import keras
import numpy as np
import tensorflow as tf

learner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
evaluated = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.01)
x = np.ones((8, 4), "float32")
in_tape, evaluated_done = threading.Event(), threading.Event()


def evaluate():
    in_tape.wait(60)
    evaluated(x)
    evaluated_done.set()


thread = threading.Thread(target=evaluate)
thread.start()
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(learner(x) ** 2)
    in_tape.set()
    evaluated_done.wait(60)
optimizer.apply_gradients(zip(tape.gradient(loss, learner.trainable_variables), learner.trainable_variables))
thread.join()
