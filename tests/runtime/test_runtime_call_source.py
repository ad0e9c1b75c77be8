"""call_source.literal_training: is `training` written as the literal True
at a call on a given line (no TensorFlow needed)."""

from bnlint.runtime.call_source import literal_training

SOURCE = '''\
import tensorflow.compat.v1 as tf


def model_fn(x, is_training):
    a = tf.layers.batch_normalization(x, training=True)
    b = tf.layers.batch_normalization(x, training=is_training)
    c = bn(x, True)
    d = tf.layers.batch_normalization(
        x,
        training=True)
    e = tf.layers.dense(x, 4)
    f = bn(x, training=True) + bn(x, training=is_training)
    return a, b, c, d, e, f
'''


def test_literal_true_parameter_and_unknown(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(SOURCE)
    name = str(path)
    assert literal_training(name, 5) is True
    assert literal_training(name, 6) is False  # through a parameter: the mode can change
    assert literal_training(name, 7) is True  # positional, as a Keras layer call
    assert [literal_training(name, n) for n in (8, 9, 10)] == [True, True, True]  # a call over lines
    assert literal_training(name, 11) is None  # no training argument here
    assert literal_training(name, 12) is None  # mixed: cannot tell which call it was


def test_unreadable_unparsable_and_huge_files_are_unknown(tmp_path):
    assert literal_training(str(tmp_path / "missing.py"), 1) is None
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    bn(x, training=True)\n")
    assert literal_training(str(bad), 2) is None
    deep = tmp_path / "deep.py"
    deep.write_text("x = " + "(" * 5000 + ")" * 5000 + "\nbn(x, training=True)\n")
    assert literal_training(str(deep), 2) is None
    huge = tmp_path / "huge.py"
    huge.write_text("bn(x, training=True)\n" + "#" * (9 * 1024 * 1024) + "\n")
    assert literal_training(str(huge), 1) is None


def test_enclosing_tape_blocks(tmp_path):
    from bnlint.runtime.call_source import enclosing_tapes

    path = tmp_path / "train.py"
    path.write_text(
        "import tensorflow as tf\n"
        "with tf.GradientTape() as tape:\n"
        "    if flag:\n"
        "        out = model(x)\n"
        "with open('f') as fh, tf.GradientTape(\n"
        "        persistent=True) as t2:\n"
        "    y = net(x)\n"
        "z = net(x)\n")
    name = str(path)
    assert enclosing_tapes(name, 4) == [(2, 2)]
    assert enclosing_tapes(name, 7) == [(5, 6)]
    assert enclosing_tapes(name, 8) == []
    assert enclosing_tapes(str(tmp_path / "missing.py"), 1) is None
