"""Keras 3 on JAX: a `jax.jit` function must behave under `bnlint confirm`
as without it. Prints what a script could observe of jitted functions
(keyword arguments named like the checker's own parameters, `__wrapped__`,
`__doc__`, copies, `__class__`, a raising one), then runs one jitted
training step and leaves with sys.exit(3) while tracing the next."""

import copy
import functools
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402


def scale(x, kind=1.0, call=0.0, fid=0.0):
    "Scale x."
    return x * kind + call + fid


jitted = jax.jit(scale)
print("probe kwargs", float(jitted(1.0, kind=2.0, call=3.0)), float(jitted(1.0, fid=4.0)))
print("probe attrs", jitted.__wrapped__ is scale, jitted.__doc__, jitted.__module__, jitted.__name__)
print("probe copies", float(copy.copy(jitted)(2.0)), float(copy.deepcopy(jitted)(3.0)))
print("probe class", jitted.__class__.__name__, isinstance(jitted, type(jax.jit(len))))
try:
    jax.jit(lambda x: x.missing)(1.0)
except AttributeError as exc:
    print("probe raises", type(exc).__name__)

model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(0.01)
optimizer.build(model.trainable_variables)
x = np.ones((8, 4), "float32")


def loss(trainable, non_trainable):
    pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
    return keras.ops.mean(pred ** 2), non_trainable


@functools.partial(jax.jit, static_argnames="stop")
def train_step(state, stop=False):
    trainable, non_trainable, opt_vars = state
    if stop:
        sys.exit(3)
    (value, non_trainable), grads = jax.value_and_grad(loss, has_aux=True)(trainable, non_trainable)
    trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
    return value, (trainable, non_trainable, opt_vars)


state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
         [v.value for v in optimizer.variables])
value, state = train_step(state)
print("probe step", np.isfinite(float(value)))
train_step(state, stop=True)
