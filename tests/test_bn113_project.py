"""BN113 (off by default) through a helper of another project module: a
function that calls contrib's `batch_norm` without `is_training` (True by
default), used by a graph that a `test()` method restores and runs (the
shape of zhangqianhui/vae-gan-tensorflow's `ops.batch_normal`). Real files
in a temporary project, linted in-process."""

import textwrap

from bnlint.config import Config
from bnlint.engine import lint_bytes, lint_paths

ON = Config(keras="3", extend_select=("BN113",))

OPS = """\
    import tensorflow as tf
    from tensorflow.contrib.layers.python.layers import batch_norm

    def batch_normal(x, scope="scope", reuse=False):
        return batch_norm(x, epsilon=1e-5, decay=0.9, scale=True, scope=scope, reuse=reuse)
    """

MODEL = """\
    import tensorflow as tf
    from ops import batch_normal

    class VAE:
        def build(self, images):
            self.images = images
            h = tf.layers.dense(images, 64)
            self.x_tilde = tf.nn.sigmoid(batch_normal(h, scope="bn1"))
            self.loss = tf.reduce_mean(tf.square(self.x_tilde - images))
            self.optim = tf.train.AdamOptimizer().minimize(self.loss)

        def test(self, sess, saver, batch):
            saver.restore(sess, "model.ckpt")
            return sess.run(self.x_tilde, feed_dict={self.images: batch})
    """


def write(root, files):
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")


def findings(root, name, config=ON):
    path = root / name
    return [(f.line, f.column, f.code) for f in lint_bytes(path.read_bytes(), str(path), config)
            if f.code == "BN113"]


def test_helper_of_another_module_that_leaves_is_training_out(tmp_path):
    write(tmp_path, {"ops.py": OPS, "model.py": MODEL})
    assert findings(tmp_path, "model.py") == [(8, 38, "BN113")]
    assert findings(tmp_path, "model.py", Config(keras="3")) == []  # off by default
    assert findings(tmp_path, "ops.py") == []  # nothing evaluates there


def test_helper_that_passes_the_flag_is_clean(tmp_path):
    ops = OPS.replace("def batch_normal(x, scope=", "def batch_normal(x, train=False, scope=").replace(
        "scale=True,", "scale=True, is_training=train,")
    assert "is_training=train" in ops
    write(tmp_path, {"ops.py": ops, "model.py": MODEL})
    assert findings(tmp_path, "model.py") == []


def test_helper_module_with_arg_scope_is_clean(tmp_path):
    ops = OPS + "\n\ndef scoped(x):\n    with tf.contrib.framework.arg_scope([batch_norm], is_training=False):\n" \
        "        return batch_norm(x)\n"
    write(tmp_path, {"ops.py": ops, "model.py": MODEL})
    assert findings(tmp_path, "model.py") == []


def test_graph_only_trained_is_clean(tmp_path):
    model = MODEL.replace("def test(self, sess, saver, batch):", "def step(self, sess, saver, batch):")
    model = model.replace('saver.restore(sess, "model.ckpt")', "saver.save(sess, 'model.ckpt')")
    model = model.replace("return sess.run(self.x_tilde,", "return sess.run([self.optim, self.x_tilde],")
    assert "def step" in model and "restore" not in model
    write(tmp_path, {"ops.py": OPS, "model.py": model})
    assert findings(tmp_path, "model.py") == []


def test_helper_reached_through_the_prefilter_when_the_file_never_names_the_builder(tmp_path):
    """evaluate.py restores and runs `resnet(...)` of nets/resnet.py, whose
    `block` calls `slim.batch_norm` without `is_training`; evaluate.py's
    bytes never say `batch_norm` (found by planting it, newcomer session:
    the pre-filter dropped the file before BN113 could follow the helper)."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "nets" / "resnet.py").write_text(textwrap.dedent("""\
        import tensorflow as tf
        slim = tf.contrib.slim

        def block(x, depth):
            y = slim.conv2d(x, depth, 3, activation_fn=None)
            return tf.nn.relu(x + slim.batch_norm(y))

        def resnet(x, n_classes):
            x = block(slim.conv2d(x, 64, 3), 64)
            return slim.fully_connected(tf.reduce_mean(x, [1, 2]), n_classes, activation_fn=None)
        """), encoding="utf-8")
    evaluate = """\
        import tensorflow as tf
        from nets.resnet import resnet

        images = tf.placeholder(tf.float32, [None, 32, 32, 3])
        predictions = tf.argmax(resnet(images, 10), axis=1)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, "ckpt/model.ckpt")
            preds = sess.run(predictions, {images: batch})
        """
    write(tmp_path, {"evaluate.py": evaluate})
    paths = [str(tmp_path / name) for name in ("nets/__init__.py", "nets/resnet.py", "evaluate.py")]
    results = lint_paths(paths, ON, jobs=1, use_cache=False)
    got = [(r.filename.rsplit("/", 1)[-1], f.line, f.column, f.code) for r in results for f in r.findings]
    assert got == [("evaluate.py", 5, 25, "BN113")]
    # the helper's module passes the flag: nothing (the sibling's bytes are read)
    resnet = (tmp_path / "nets" / "resnet.py").read_text(encoding="utf-8")
    wired = resnet.replace("slim.batch_norm(y)", "slim.batch_norm(y, is_training=False)")
    (tmp_path / "nets" / "resnet.py").write_text(wired, encoding="utf-8")
    assert [f for r in lint_paths(paths, ON, jobs=1, use_cache=False) for f in r.findings] == []
