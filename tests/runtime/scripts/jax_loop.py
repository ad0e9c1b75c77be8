"""Keras 3 on JAX, custom loops: first an eager loop (jax.value_and_grad,
optimizer.apply) with `stateless_call(..., training=True)`: clean, 2 steps;
one eager step whose `training` is a variable that is False (statically
fine, a runtime-only finding); then an endless jitted loop
(optimizer.stateless_apply) whose `stateless_call` passes no `training`
(BN111), stopped by --max-steps."""

import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402


def make_model():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                             keras.layers.Dense(1)])


x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = x.sum(axis=1, keepdims=True)

good = make_model()
good_opt = keras.optimizers.SGD(0.01)
good_opt.build(good.trainable_variables)


def good_loss(trainable, non_trainable):
    pred, non_trainable = good.stateless_call(trainable, non_trainable, x, training=True)
    return keras.ops.mean((pred - y) ** 2), non_trainable


good_grad = jax.value_and_grad(good_loss, has_aux=True)
for _ in range(2):
    (loss, new_state), grads = good_grad([v.value for v in good.trainable_variables],
                                         [v.value for v in good.non_trainable_variables])
    good_opt.apply(grads, good.trainable_variables)
    for variable, value in zip(good.non_trainable_variables, new_state):
        variable.assign(value)

frozen = make_model()
frozen_opt = keras.optimizers.SGD(0.01)
frozen_opt.build(frozen.trainable_variables)
use_batch_stats = False


def frozen_loss(trainable, non_trainable):
    pred, _ = frozen.stateless_call(trainable, non_trainable, x, training=use_batch_stats)  # confirm: BN801 new
    return keras.ops.mean((pred - y) ** 2)


grads = jax.grad(frozen_loss)([v.value for v in frozen.trainable_variables],
                              [v.value for v in frozen.non_trainable_variables])
frozen_opt.apply(grads, frozen.trainable_variables)

model = make_model()
optimizer = keras.optimizers.SGD(0.01)
optimizer.build(model.trainable_variables)


def compute_loss(trainable, non_trainable):
    pred, non_trainable = model.stateless_call(trainable, non_trainable, x)  # confirm: BN111 confirmed
    return keras.ops.mean((pred - y) ** 2), non_trainable


grad_fn = jax.value_and_grad(compute_loss, has_aux=True)


@jax.jit
def train_step(state):
    trainable, non_trainable, opt_vars = state
    (loss, non_trainable), grads = grad_fn(trainable, non_trainable)
    trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
    return loss, (trainable, non_trainable, opt_vars)


state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
         [v.value for v in optimizer.variables])
try:
    while True:
        loss, state = train_step(state)
finally:
    print("tensorflow loaded:", "tensorflow" in sys.modules, file=sys.stderr)
