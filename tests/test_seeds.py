"""The four seed reports, each rewritten as a small program of our own.

000: a blog post (Japanese) on training with GradientTape after switching a
     MobileNetV2 classifier to random weights: loss stuck, every prediction
     in the batch identical, moving statistics never updated. BN001.
001: a Q&A (Japanese) about a hand-made batch norm with tf.nn.moments and an
     ExponentialMovingAverage. That is BN104 (not a core rule): the core
     rules must not report anything false on it.
002: a Q&A (Chinese) on a functional model with BatchNormalization()(x,
     training=True), trained with fit() and evaluated with predict(). That
     is BN108 (not core): nothing false from the core rules.
003: a tutorial (Chinese) on tf.layers.batch_normalization and the
     UPDATE_OPS collection in a TF1 graph. BN003.
"""

import pytest

from bnlint.config import Config

from helpers import expected, found, lint

KERAS3 = Config(keras="3")
KERAS2 = Config(keras="2")
CORE = {"BN001", "BN002", "BN003"}


def check(code: str, config: Config = KERAS3):
    """The findings are exactly the `# expect:` marks (none for a clean program)."""
    got = found(lint(code, config))
    assert got == expected(code), got


def core_findings(code: str, config: Config = KERAS3):
    all_found = found(lint(code, config))
    assert not any(c.startswith("BN9") for _, c in all_found), all_found  # it parsed
    return {(line, c) for line, c in all_found if c in CORE}


# -- seed 000: GradientTape without training ---------------------------------------------
SEED000_BUGGY = """\
    import tensorflow as tf

    SIZE = 96
    backbone = tf.keras.applications.MobileNetV2(
        input_shape=(SIZE, SIZE, 3), include_top=False, weights=None)
    classifier = tf.keras.Sequential([
        backbone,
        tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(2),
    ])
    optimizer = tf.keras.optimizers.RMSprop(1e-4)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = tf.keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            logits = classifier(images){mark}
            loss = loss_fn(labels, logits)
        grads = tape.gradient(loss, classifier.trainable_variables)
        optimizer.apply_gradients(zip(grads, classifier.trainable_variables))
        accuracy(labels, logits)
        return loss

    def evaluate(images):
        return classifier(images, training=False)
"""


def test_seed000_training_loop_without_training_is_found():
    check(SEED000_BUGGY.format(mark="  # expect: BN001"))
    check(SEED000_BUGGY.format(mark="  # expect: BN001"), KERAS2)


def test_seed000_pretrained_weights_hide_the_bug_but_it_is_still_found():
    code = SEED000_BUGGY.replace("weights=None", "weights='imagenet'")
    check(code.format(mark="  # expect: BN001"))


def test_seed000_fixed_with_training_true_is_clean():
    fixed = SEED000_BUGGY.format(mark="").replace(
        "logits = classifier(images)", "logits = classifier(images, training=True)")
    check(fixed)
    check(fixed, KERAS2)


def test_seed000_message_tells_the_fix():
    findings = lint(SEED000_BUGGY.format(mark=""), KERAS3)
    assert [f.code for f in findings] == ["BN001"]
    assert "classifier" in findings[0].message
    assert "training=True" in findings[0].message


SEED000_SUBCLASS = """\
    import tensorflow as tf

    class SmallNet(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = tf.keras.layers.Conv2D(8, 3)
            self.norm = tf.keras.layers.BatchNormalization()
            self.drop = tf.keras.layers.Dropout(0.3)
            self.out = tf.keras.layers.Dense(10)

        def call(self, x{signature}):
            h = self.norm(self.conv(x){inner})
            h = self.drop(h{inner})
            return self.out(tf.reduce_mean(h, axis=[1, 2]))

    net = SmallNet()
    opt = tf.keras.optimizers.Adam()

    def step(x, y):
        with tf.GradientTape() as tape:
            pred = net(x{outer}){mark}
            loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, pred))
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
"""


def test_seed000_subclass_fixed_as_the_post_suggests_is_clean():
    # The post's conclusion: a subclassed model whose call() takes `training`
    # and hands it to BN/Dropout, called with training=True in the loop.
    check(SEED000_SUBCLASS.format(signature=", training=None", inner=", training=training",
                                  outer=", training=True", mark=""))
    # Forwarding is not even needed: the call context carries the mode.
    check(SEED000_SUBCLASS.format(signature=", training=None", inner="",
                                  outer=", training=True", mark=""))


def test_seed000_subclass_called_without_training_is_found():
    code = SEED000_SUBCLASS.format(signature=", training=None", inner="", outer="",
                                   mark="  # expect: BN001")
    check(code)


def test_seed000_subclass_without_training_parameter_keras3():
    code = SEED000_SUBCLASS.format(signature="", inner="", outer=", training=True", mark="")
    lines = code.splitlines()
    call_line = next(i for i, l in enumerate(lines, 1) if "def call" in l)
    # Keras 3: fit() would never pass training; Keras 2 trains it correctly.
    assert found(lint(code, KERAS3)) == {(call_line, "BN002")}
    assert found(lint(code, KERAS2)) == set()


def test_seed000_learning_phase_workaround_under_tf_keras_is_not_called_inference():
    # The post's fix for functional models: set the global learning phase.
    # Under tf_keras (Keras 2) model(x) then runs in training mode, so a BN001
    # message saying it "runs in inference mode" would be false (BN106 is the
    # rule about relying on this global state).
    code = """\
        import tensorflow as tf
        import tf_keras

        tf_keras.backend.set_learning_phase(1)
        base = tf_keras.applications.MobileNetV2(include_top=False, weights=None)
        clf = tf_keras.Sequential([base, tf_keras.layers.GlobalAveragePooling2D(), tf_keras.layers.Dense(2)])

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(clf(x))
            return tape.gradient(loss, clf.trainable_variables)
    """
    assert core_findings(code, KERAS2) == set()


# -- seed 001: hand-made batch norm (BN104 territory) -----------------------------------------
SEED001_HANDMADE = """\
    import tensorflow.compat.v1 as tf

    class ManualNorm:
        \"\"\"Batch norm by hand: batch moments while training, averages after.\"\"\"

        def __init__(self, channels, ema):
            self.shift = tf.Variable(tf.zeros([channels]))
            self.scale = tf.Variable(tf.ones([channels]))
            self.mean = tf.Variable(tf.zeros([channels]), trainable=False)
            self.var = tf.Variable(tf.ones([channels]), trainable=False)
            self.ema = ema

        def updater(self):
            return self.ema.apply([self.mean, self.var])

        def __call__(self, x, train=True):
            if train:
                m, v = tf.nn.moments(x, [0, 1, 2])
                with tf.control_dependencies([self.mean.assign(m), self.var.assign(v)]):
                    return tf.nn.batch_normalization(x, m, v, self.shift, self.scale, 1e-3)
            return tf.nn.batch_normalization(
                x, self.ema.average(self.mean), self.ema.average(self.var),
                self.shift, self.scale, 1e-3)

    images = tf.placeholder(tf.float32, [None, 28, 28, 1])
    ema = tf.train.ExponentialMovingAverage(decay=0.99)
    norm = ManualNorm(8, ema)
    features = norm(tf.layers.conv2d(images, 8, 3))
    loss = tf.reduce_mean(features)
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    {tail}
"""


@pytest.mark.parametrize("tail", [
    "",  # the buggy use: the EMA update op is never run
    "with tf.control_dependencies([step]):\n        step = tf.group(norm.updater())",  # the answer's fix
])
def test_seed001_handmade_bn_gets_no_core_finding(tail):
    code = SEED001_HANDMADE.format(tail=tail)
    assert core_findings(code, KERAS2) == set()
    assert core_findings(code, KERAS3) == set()


def test_seed001_moments_without_any_average_gets_no_core_finding():
    code = """\
        import tensorflow as tf

        def batch_norm(x, gamma, beta):
            mean, var = tf.nn.moments(x, axes=[0])
            return tf.nn.batch_normalization(x, mean, var, beta, gamma, 1e-5)

        w = tf.Variable(tf.random.normal([4, 4]))
        gamma, beta = tf.Variable(tf.ones([4])), tf.Variable(tf.zeros([4]))
        opt = tf.keras.optimizers.SGD(0.1)

        def train(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(batch_norm(x @ w, gamma, beta))
            opt.apply_gradients(zip(tape.gradient(loss, [w, gamma, beta]), [w, gamma, beta]))
    """
    assert core_findings(code) == set()


def test_seed001_handmade_bn_as_keras_layer_gets_no_core_finding():
    code = """\
        import tensorflow as tf

        class HandNorm(tf.keras.layers.Layer):
            def build(self, shape):
                self.gamma = self.add_weight(shape=shape[-1:], initializer="ones")
                self.beta = self.add_weight(shape=shape[-1:], initializer="zeros")

            def call(self, x, training=None):
                mean, var = tf.nn.moments(x, axes=[0])
                return tf.nn.batch_normalization(x, mean, var, self.beta, self.gamma, 1e-3)
    """
    assert core_findings(code) == set()


# -- seed 002: functional BN with training=True (BN108 territory) ------------------------------
SEED002 = """\
    import numpy as np
    from tensorflow.python.keras import Input, Model
    from tensorflow.python.keras.layers import BatchNormalization, Dense

    xs = np.random.randn(4096, 1)
    ys = (xs > 0).astype("float32")
    shifted = np.random.randn(128, 1) + 2.0

    inp = Input(shape=(1,))
    h = BatchNormalization()(inp{flag})
    h = Dense(8, activation="sigmoid")(h)
    h = BatchNormalization()(h{flag})
    out = Dense(1, activation="sigmoid")(h)
    net = Model(inputs=inp, outputs=out)
    net.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    net.fit(xs, ys, epochs=5, batch_size=32)
    scores = net.predict(shifted)
"""


@pytest.mark.parametrize("flag", ["", ", training=True"])
@pytest.mark.parametrize("config", [KERAS2, KERAS3], ids=["keras2", "keras3"])
def test_seed002_functional_model_gets_no_core_finding(flag, config):
    assert core_findings(SEED002.format(flag=flag), config) == set()


def test_seed002_with_public_keras_imports_gets_no_core_finding():
    code = SEED002.format(flag=", training=True").replace(
        "from tensorflow.python.keras import", "from tensorflow.keras import").replace(
        "from tensorflow.python.keras.layers import", "from tensorflow.keras.layers import")
    assert core_findings(code) == set()


# -- seed 003: TF1 graph and UPDATE_OPS -----------------------------------------------------
SEED003 = """\
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()

    pixels = tf.placeholder(tf.float32, [None, 64, 64, 3], name="pixels")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    is_training = tf.placeholder_with_default(True, (), name="is_training")

    net = tf.layers.conv2d(pixels, 16, 3, strides=2, padding="same")
    net = tf.layers.batch_normalization(net, training=is_training, name="bn1")
    net = tf.layers.dense(tf.layers.flatten(net), 10)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, net)
    opt = tf.train.AdamOptimizer(1e-3)
    {train}
"""
BN_LINE = 9


def test_seed003_train_op_without_update_ops_is_found():
    code = SEED003.format(train="train_op = opt.minimize(loss)  # expect: BN003")
    check(code, KERAS2)
    message = lint(code, KERAS2)[0].message
    assert f"line {BN_LINE}" in message
    assert "UPDATE_OPS" in message


@pytest.mark.parametrize("train", [
    # the tutorial's fix: the train op depends on the collection
    "update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\n"
    "    with tf.control_dependencies(update_ops):\n"
    "        train_op = opt.minimize(loss)",
    "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
    "        train_op = opt.minimize(loss)",
    "step = opt.minimize(loss)\n"
    "    train_op = tf.group(step, *tf.get_collection(tf.GraphKeys.UPDATE_OPS))",
])
def test_seed003_fixed_versions_are_clean(train):
    check(SEED003.format(train=train), KERAS2)


def test_seed003_unrelated_dependency_is_still_found():
    code = SEED003.format(
        train="warmup = tf.no_op()\n"
              "    with tf.control_dependencies([warmup]):\n"
              "        train_op = opt.minimize(loss)  # expect: BN003")
    check(code, KERAS2)


def test_seed003_apply_gradients_is_found_too():
    code = SEED003.format(
        train="pairs = opt.compute_gradients(loss)\n"
              "    train_op = opt.apply_gradients(pairs)  # expect: BN003")
    check(code, KERAS2)
