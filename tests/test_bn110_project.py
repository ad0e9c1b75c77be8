"""BN110 through a helper of another project module: a function of
layers_util.py calls `tf.compat.v1.layers.batch_normalization` without
`training`, and train.py's graph built with it reaches the train op
(found by planting it, newcomer session). Real files in a temporary
project, linted in-process through the pre-filter (lint_paths)."""

import textwrap

from bnlint.config import Config
from bnlint.engine import lint_paths

KERAS3 = Config(keras="3")

UTIL = """\
    import tensorflow as tf


    def fc(x, units, name, is_train):
        with tf.variable_scope(name):
            x = tf.compat.v1.layers.dense(x, units)
            x = tf.compat.v1.layers.batch_normalization(x, name="bn")
            return tf.compat.v1.layers.dropout(tf.nn.elu(x), 0.5, training=is_train)
    """

TRAIN = """\
    import tensorflow as tf
    from layers_util import fc

    x = tf.compat.v1.placeholder(tf.float32, [None, 10])
    t = tf.compat.v1.placeholder(tf.float32, [None, 1])
    is_train = tf.compat.v1.placeholder(tf.bool)
    h = fc(x, 32, "fc1", is_train)
    loss = tf.reduce_mean(tf.square(tf.compat.v1.layers.dense(h, 1) - t))
    train_op = tf.compat.v1.train.AdamOptimizer().minimize(loss)
    """


def run(root, files):
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    paths = sorted(str(root / name) for name in files)
    return [(r.filename.rsplit("/", 1)[-1], f.line, f.column, f.code, f.message)
            for r in lint_paths(paths, KERAS3, jobs=1, use_cache=False) for f in r.findings if f.code == "BN110"]


def test_helper_of_another_module_without_training(tmp_path):
    got = run(tmp_path, {"layers_util.py": UTIL, "train.py": TRAIN})
    assert [g[:4] for g in got] == [("train.py", 7, 5, "BN110")]
    assert "`fc(...)` calls `batch_normalization(...)` without `training=`" in got[0][4]


def test_helper_that_passes_the_flag_or_a_graph_never_trained_is_clean(tmp_path):
    wired = UTIL.replace('batch_normalization(x, name="bn")', 'batch_normalization(x, name="bn", training=is_train)')
    assert run(tmp_path, {"layers_util.py": wired, "train.py": TRAIN}) == []
    # the helper's output never reaches a train op: not reported (BN110 needs the train op)
    untrained = TRAIN.replace("train_op = tf.compat.v1.train.AdamOptimizer().minimize(loss)", "value = loss")
    assert run(tmp_path, {"layers_util.py": UTIL, "train.py": untrained}) == []


def test_helper_two_calls_deep_and_a_dropout_without_training(tmp_path):
    util = """\
        import tensorflow as tf

        def _drop(x):
            return tf.layers.dropout(x, 0.3)

        def head(x):
            return _drop(tf.layers.dense(x, 8))
        """
    train = TRAIN.replace("from layers_util import fc", "import layers_util as U").replace(
        'h = fc(x, 32, "fc1", is_train)', "h = U.head(x)")
    got = run(tmp_path, {"layers_util.py": util, "train.py": train})
    assert [g[:4] for g in got] == [("train.py", 7, 5, "BN110")]
    assert "`head(...)` calls `dropout(...)`" in got[0][4]
