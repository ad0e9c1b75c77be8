"""Keras 3 on JAX, A3C style: worker threads apply the optimizer (40 steps
in all); the main thread waits on a queue for each worker's end mark. When
--max-steps ends the workers, the main thread must stop too, not wait."""

import os
import queue
import threading

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.01)
optimizer.build(model.trainable_variables)
lock = threading.Lock()
results = queue.Queue()


def worker():
    for _ in range(20):
        with lock:
            optimizer.apply([keras.ops.ones(v.shape) for v in model.trainable_variables], model.trainable_variables)
    results.put(None)


workers = [threading.Thread(target=worker) for _ in range(2)]
for w in workers:
    w.start()
for _ in workers:
    results.get()
print("all workers ended")
