"""Keras 3 (numpy backend, light): one optimizer step, then a forked worker
process that takes three more after the script's own process has ended (it
waits for the worker at exit). The worker's copy of the checker must not
replace the script's record."""

import multiprocessing
import os
import time

os.environ["KERAS_BACKEND"] = "numpy"

import keras  # noqa: E402

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.01)
optimizer.build(model.trainable_variables)


def step():
    optimizer.apply([keras.ops.ones(v.shape) for v in model.trainable_variables], model.trainable_variables)


def worker():
    time.sleep(1.0)
    for _ in range(3):
        step()
        time.sleep(0.6)


step()
multiprocessing.get_context("fork").Process(target=worker).start()
print("main process done")
