"""Keras 3 on PyTorch: a loop with a Keras optimizer and `training=True`
(clean, 2 steps), then an endless torch.optim loop whose model call passes
no `training` (BN001), stopped by --max-steps."""

import os
import sys

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def make_model():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                             keras.layers.Dense(1)])


x = torch.tensor(np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32"))
y = x.sum(dim=1, keepdim=True)

good = make_model()
good_opt = keras.optimizers.SGD(0.01)
for _ in range(2):
    good.zero_grad()
    loss = torch.mean((good(x, training=True) - y) ** 2)
    loss.backward()
    good_opt.apply([v.value.grad for v in good.trainable_variables], good.trainable_variables)

model = make_model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
try:
    while True:
        optimizer.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)  # confirm: BN001 confirmed
        loss.backward()
        optimizer.step()
finally:
    print("tensorflow loaded:", "tensorflow" in sys.modules, file=sys.stderr)
