"""BN003 with the train op built by a helper of another module of the
project (issue 11, M3): reported at the call in the file that builds the
batch norm, never when the helper may wire the update ops in itself. Real
files in a temporary project, linted in-process through the pre-filter
(lint_paths) and directly (lint_bytes)."""

import textwrap

from bnlint.config import Config
from bnlint.engine import lint_bytes, lint_paths

KERAS3 = Config(keras="3")

TRAIN_OPS = """\
    import tensorflow.compat.v1 as tf

    def make_train_op(loss, lr):
        return tf.train.AdamOptimizer(lr).minimize(loss)
    """

MODEL = """\
    import tensorflow.compat.v1 as tf
    from pkg.train_ops import make_train_op

    x = tf.placeholder(tf.float32, [None, 4])
    is_training = tf.placeholder(tf.bool, [])
    h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=is_training)
    loss = tf.reduce_mean(h)
    train_op = make_train_op(loss, 1e-3)
    """


def write(root, files):
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def findings(root, name):
    path = root / name
    return [(f.line, f.column, f.code) for f in lint_bytes(path.read_bytes(), str(path), KERAS3)]


def test_train_op_built_by_a_helper_of_a_sibling_module(tmp_path):
    """The issue's input: reported at the call (model.py has the batch norm)."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/train_ops.py": TRAIN_OPS, "pkg/model.py": MODEL})
    assert findings(tmp_path, "pkg/model.py") == [(8, 12, "BN003")]
    # through the pre-filter too: model.py's bytes hold no `.minimize(`
    files = [str(tmp_path / "pkg" / name) for name in ("__init__.py", "train_ops.py", "model.py")]
    results = lint_paths(files, KERAS3, jobs=1, use_cache=False)
    got = sorted((r.filename.rsplit("/", 1)[-1], f.line, f.code) for r in results for f in r.findings)
    assert got == [("model.py", 8, "BN003")]
    # the helper's own module has no batch norm: nothing there
    assert findings(tmp_path, "pkg/train_ops.py") == []


def test_the_fix_at_a_helper_call_is_unsafe(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/train_ops.py": TRAIN_OPS, "pkg/model.py": MODEL})
    path = tmp_path / "pkg/model.py"
    [finding] = lint_bytes(path.read_bytes(), str(path), KERAS3)
    assert finding.fix is not None and finding.fix.applicability == "unsafe"


def test_module_alias_and_a_nested_helper(tmp_path):
    """`import pkg.train_ops as T`; the minimize is in a function the helper calls."""
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/train_ops.py": """\
            import tensorflow.compat.v1 as tf

            def _adam(lr):
                return tf.train.AdamOptimizer(lr)

            def _minimize(opt, loss):
                return opt.minimize(loss)

            def build_train_op(loss, lr=1e-3):
                return _minimize(_adam(lr), loss)
            """,
        "pkg/model.py": """\
            import tensorflow.compat.v1 as tf
            import pkg.train_ops as T

            class Net:
                def __init__(self, x, phase):
                    h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=phase)
                    self.loss = tf.reduce_mean(h)
                    self.train_op = T.build_train_op(self.loss)
            """,
    })
    assert findings(tmp_path, "pkg/model.py") == [(8, 25, "BN003")]


def test_a_helper_that_wires_the_update_ops_is_clean(tmp_path):
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/train_ops.py": """\
            import tensorflow.compat.v1 as tf

            def make_train_op(loss, lr):
                update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
                with tf.control_dependencies(update_ops):
                    return tf.train.AdamOptimizer(lr).minimize(loss)
            """,
        "pkg/model.py": MODEL,
    })
    assert findings(tmp_path, "pkg/model.py") == []


def test_a_helper_call_under_the_update_ops_dependency_is_clean(tmp_path):
    model = MODEL.replace(
        "    train_op = make_train_op(loss, 1e-3)\n",
        "    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
        "        train_op = make_train_op(loss, 1e-3)\n")
    assert model != MODEL
    write(tmp_path, {"pkg/__init__.py": "", "pkg/train_ops.py": TRAIN_OPS, "pkg/model.py": model})
    assert findings(tmp_path, "pkg/model.py") == []


def test_no_batch_norm_in_the_graph_is_clean(tmp_path):
    model = MODEL.replace("tf.layers.batch_normalization(tf.layers.dense(x, 8), training=is_training)",
                          "tf.layers.dense(x, 8)")
    assert model != MODEL
    write(tmp_path, {"pkg/__init__.py": "", "pkg/train_ops.py": TRAIN_OPS, "pkg/model.py": model})
    assert findings(tmp_path, "pkg/model.py") == []


def test_a_helper_that_makes_no_train_op_is_clean(tmp_path):
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/train_ops.py": """\
            import tensorflow.compat.v1 as tf

            def make_train_op(loss, lr):
                return tf.train.AdamOptimizer(lr)

            def unused(opt, loss):
                return opt.minimize(loss)
            """,
        "pkg/model.py": MODEL,
    })
    assert findings(tmp_path, "pkg/model.py") == []


def test_stage1_asks_the_siblings_only_for_what_the_file_lacks(tmp_path):
    """model.py names batch norm but no train op: BN003 passes stage 1 only
    when an imported project module holds a train op method, not merely
    more batch norm (the BN words the file has already)."""
    from bnlint.api import load_api
    from bnlint.prefilter import build_prefilter

    pre = build_prefilter(load_api())
    only_bn = ("import tensorflow.compat.v1 as tf\n\n"
               "def bn(x, t):\n    return tf.layers.batch_normalization(x, training=t)\n")
    write(tmp_path, {"pkg/__init__.py": "", "pkg/train_ops.py": only_bn, "pkg/model.py": MODEL})
    data = (tmp_path / "pkg/model.py").read_bytes()
    assert "BN003" not in pre.stage1(data, {"BN003"}, str(tmp_path / "pkg/model.py"))
    (tmp_path / "pkg/train_ops.py").write_text(textwrap.dedent(TRAIN_OPS), encoding="utf-8")
    assert "BN003" in pre.stage1(data, {"BN003"}, str(tmp_path / "pkg/model.py"))


TRAINER_CLASS = """\
    import tensorflow as tf

    class Trainer(object):
        def __init__(self, loss, learning_rate=1e-4):
            self.optimizer = tf.train.AdamOptimizer(learning_rate)
            self.step = self.optimizer.minimize(loss)
    """


def test_train_op_built_by_the_constructor_of_a_sibling_class(tmp_path):
    """`self.trainer = Trainer(self.loss)`, whose `__init__` calls minimize
    (found by planting it, newcomer session): reported at the construction,
    through the pre-filter too; a class whose module wires the update ops in
    is not reported."""
    model = """\
        import tensorflow as tf
        from trainer import Trainer

        class Autoencoder(object):
            def __init__(self):
                self.x = tf.placeholder(tf.float32, [None, 784])
                self.train_phase = tf.placeholder(tf.bool)
                h = tf.layers.batch_normalization(tf.layers.dense(self.x, 128), training=self.train_phase)
                self.loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 784) - self.x))
                self.trainer = Trainer(self.loss)
        """
    write(tmp_path, {"trainer.py": TRAINER_CLASS, "model.py": model})
    assert findings(tmp_path, "model.py") == [(10, 24, "BN003")]
    results = lint_paths([str(tmp_path / "trainer.py"), str(tmp_path / "model.py")], KERAS3, jobs=1, use_cache=False)
    assert sorted((r.filename.rsplit("/", 1)[-1], f.line, f.code) for r in results for f in r.findings) == \
        [("model.py", 10, "BN003")]
    wired = TRAINER_CLASS.replace("self.step = self.optimizer.minimize(loss)",
                                  "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
                                  "                self.step = self.optimizer.minimize(loss)")
    write(tmp_path, {"trainer.py": wired})
    assert findings(tmp_path, "model.py") == []
