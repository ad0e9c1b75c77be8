"""Keras 3 (here on JAX): `set_learning_phase` is gone (BN106): the script
crashes on that line with an AttributeError."""

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402

keras.backend.set_learning_phase(0)  # confirm: BN106 confirmed
