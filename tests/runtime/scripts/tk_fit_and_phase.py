"""tf_keras: a Sequential model trained with fit() (fine), then a custom loop
whose model call has no `training`, which the static rule flags; but the
script set the global learning phase to 1 (through a name built at run time,
which the static rules cannot follow), so Keras 2 runs BN in training mode
there: the runtime refutes the finding."""

import numpy as np
import tf_keras as keras
import tensorflow as tf

model = keras.Sequential([
    keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
    keras.layers.BatchNormalization(), keras.layers.Dense(2),
])
x = np.random.RandomState(0).normal(3.0, 2.0, size=(32, 8)).astype("float32")
y = (x.sum(axis=1) > 24).astype("int32")
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, batch_size=16, epochs=1, verbose=0)

set_phase = getattr(keras.backend, "_".join(["set", "learning", "phase"]))
set_phase(1)
optimizer = keras.optimizers.SGD(0.1)
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(model(x) ** 2)  # confirm: BN001 refuted
optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
