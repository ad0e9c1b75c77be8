"""The project model across files (bnlint/semantic/project.py): the kinds
of miss of issue 11 that need more than one file, and the guard and bound
on the sibling modules it reads (issue 14, items 1 and 16). In-process
(lint_paths / lint_bytes on files in a temporary project)."""

import textwrap

import pytest

from bnlint.api import load_api
from bnlint.config import Config
from bnlint.engine import lint_bytes, lint_paths
from bnlint.semantic import project as project_model

KERAS3 = Config(keras="3")
GUESSES = Config(keras="3", extend_select=("BN011",))  # with the off-by-default conditional finding


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def findings(root, name, config=KERAS3):
    path = root / name
    return [(f.line, f.code) for f in lint_bytes(path.read_bytes(), str(path), config)]


def test_bn003_batch_norm_built_by_a_helper_of_a_sibling_package_module(tmp_path):
    """Issue 11, kind 1: pkg/ops.py builds the batch norm, pkg/model.py the train op."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/ops.py": """\
            import tensorflow as tf

            def bn(x, train):
                return tf.layers.batch_normalization(x, training=train)
            """,
        "pkg/model.py": """\
            import tensorflow as tf
            import pkg.ops as ops

            class Model:
                def __init__(self, x):
                    self.is_train = tf.placeholder(tf.bool)
                    h = tf.layers.dense(x, 8)
                    h = ops.bn(h, self.is_train)
                    loss = tf.reduce_mean(h)
                    self.op = tf.train.AdamOptimizer(1e-3).minimize(loss)
            """,
    })
    assert findings(tmp_path, "pkg/model.py") == [(10, "BN003")]


def test_bn003_helper_that_builds_no_batch_norm_is_clean(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/ops.py": """\
            import tensorflow as tf

            def bn(x, train):
                return tf.layers.dense(x, 8)
            """,
        "pkg/model.py": """\
            import tensorflow as tf
            import pkg.ops as ops

            x = tf.placeholder(tf.float32)
            h = ops.bn(x, True)
            op = tf.train.AdamOptimizer(1e-3).minimize(tf.reduce_mean(h))
            norm = tf.layers.batch_normalization(x, training=False)
            """,
    })
    assert findings(tmp_path, "pkg/model.py") == []


BASE = """\
    import tensorflow as tf

    class Base(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = tf.keras.layers.BatchNormalization()
    """


def test_bn002_keras_base_class_from_a_sibling_module(tmp_path):
    """Issue 11, kind 2: `from base import Base` where Base is a Keras Model."""
    write(tmp_path, {
        "base.py": BASE,
        "net.py": """\
            from base import Base

            class Net(Base):
                def call(self, x, training=True):
                    return self.bn(x, training=training)
            """,
    })
    assert findings(tmp_path, "net.py") == [(4, "BN002")]


def test_bn002_plain_base_class_from_a_sibling_module_is_clean(tmp_path):
    write(tmp_path, {
        "base.py": "class Base:\n    pass\n",
        "net.py": """\
            import tensorflow as tf
            from base import Base

            class Net(Base):
                def call(self, x, training=True):
                    return tf.keras.layers.BatchNormalization()(x, training=training)
            """,
    })
    assert findings(tmp_path, "net.py") == []


TRAIN = """\
    import tensorflow as tf
    from models import Net

    net = Net()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(net(x))
    grads = tape.gradient(loss, net.trainable_variables)
    """


def test_a_sibling_module_too_deep_to_parse_is_guarded(tmp_path):
    """Issue 14, item 1: models.py with 5000 nested parentheses, imported by
    a linted train.py, once killed bnlint; it is parsed like a linted file
    (a failure leaves it unknown: the conditional finding stays)."""
    (tmp_path / "models.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    got = findings(tmp_path, "train.py", GUESSES)
    assert got == [(6, "BN011")]
    # and many files at once (the process pool path) as well
    results = lint_paths([str(tmp_path / "train.py"), str(tmp_path / "models.py")], GUESSES,
                         jobs=1, use_cache=False)
    by_name = {r.filename.rsplit("/", 1)[-1]: [(f.line, f.code) for f in r.findings] for r in results}
    assert by_name["train.py"] == [(6, "BN011")]


def test_the_module_cache_is_bounded(tmp_path, monkeypatch):
    """Issue 14, item 16: an editor saving a sibling module again and again
    must not grow memory: the cache keeps at most its byte budget."""
    cache = project_model._ModuleCache(budget=4000)
    monkeypatch.setattr(project_model, "_CACHE", cache)
    api = load_api()
    for i in range(50):
        data = (f"# save {i}\n" + "import tensorflow as tf\n" * 40).encode()
        assert project_model.load_model(data, api) is not None
    assert cache.used <= 4000 + 1100
    assert len(cache.items) < 50


@pytest.mark.parametrize("text", [
    "x = (\n",  # a syntax error
    "\x00\x01",  # binary
    "# coding: nonsense\nx = 1\n",  # an unknown encoding
])
def test_a_broken_sibling_stays_unknown(tmp_path, text):
    (tmp_path / "models.py").write_bytes(text.encode("latin-1"))
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    assert findings(tmp_path, "train.py", GUESSES) == [(6, "BN011")]
    assert findings(tmp_path, "train.py") == []  # a guess: off by default


BN_HELPER = """\
    import tensorflow as tf

    def batch_norm(x, is_train=True, name="bn"):
        return tf.layers.batch_normalization(x, training=is_train, name=name)

    def conv_bn(x, train=True):
        return batch_norm(tf.layers.conv2d(x, 8, 3), is_train=train)
    """

GAN_MODEL = """\
    import tensorflow as tf
    import pkg.modules as t

    class GAN:
        def generator(self, z, reuse=None, is_train=True):
            with tf.variable_scope("g", reuse=reuse):
                return t.batch_norm(tf.layers.dense(z, 8), is_train=is_train)

        def discriminator(self, x):
            return t.conv_bn(x)

        def build(self, z, x):
            self.g = self.generator(z)
            {extra}
            loss = tf.reduce_mean(self.discriminator(self.g))
            self.g_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    """


@pytest.mark.parametrize("extra, expected", [
    # every batch norm runs in training mode: its moving statistics are never read
    ("pass", []),
    # the same generator also built for sampling: it reads them, and they never move
    ("self.g_test = self.generator(z, reuse=True, is_train=False)", [(16, "BN003")]),
    # a train op's chain of helper parameters with a False at its start
    ("self.d_test = t.conv_bn(x, train=False)", [(16, "BN003")]),
])
def test_bn003_batch_norm_always_training_through_a_sibling_helper(tmp_path, extra, expected):
    """Issue 11 (kozistr/Awesome-GANs): batch norm built by a helper of a
    sibling module whose training argument defaults to True is exempt only
    when every path from the program's calls to it gives True."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/modules.py": BN_HELPER,
        "pkg/model.py": GAN_MODEL.replace("{extra}", extra),
    })
    assert findings(tmp_path, "pkg/model.py") == expected


def details(root, name):
    path = root / name
    return [(f.line, f.code, f.extra.get("detail", "")) for f in lint_bytes(path.read_bytes(), str(path), KERAS3)]


@pytest.mark.parametrize("entry", ["utils", "repo/utils", "./utils"])
def test_bn001_model_of_a_module_found_through_sys_path_append(tmp_path, entry):
    """Issue 11 (ayulockin/SwAV-TF): `sys.path.append('SwAV-TF/utils')` then
    `import architecture` (utils/architecture.py; the notebook runs one
    folder up): the model's batch norm is seen, not guessed."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "utils/architecture.py": """\
            import tensorflow as tf

            def head():
                return tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])
            """,
        "train.py": f"""\
            import sys
            sys.path.append({entry!r})
            import tensorflow as tf
            import architecture

            proj = architecture.head()
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(proj(x))
            grads = tape.gradient(loss, proj.trainable_variables)
            """,
    })
    [(line, code, detail)] = details(tmp_path, "train.py")
    assert (line, code) == (8, "BN001")
    assert "its BatchNormalization runs in inference mode" in detail


def test_bn001_sys_path_entry_outside_the_project_is_not_followed(tmp_path):
    """An entry that leaves the project (`..`) is not a place to read modules from."""
    write(tmp_path, {
        "outside/architecture.py": "import tensorflow as tf\ndef head():\n    return tf.keras.Sequential()\n",
        "proj/train.py": """\
            import sys
            sys.path.append('../outside')
            import architecture
            """,
    })
    (tmp_path / "proj" / ".git").mkdir()
    from bnlint.semantic.project import Project
    project = Project(str(tmp_path / "proj" / "train.py"), load_api(), path_entries=("../outside",))
    assert project.find("architecture") is None


def test_bn001_model_passed_to_the_base_class_by_super_init_is_seen(tmp_path):
    """Issue 11 (Hands-On-Image-Generation ch3_dcgan): the subclass hands its
    BatchNormalization model to the base class's __init__; the finding says
    so rather than "if it holds"."""
    write(tmp_path, {"gan.py": """\
        import tensorflow as tf
        class GAN:
            def __init__(self, generator):
                self.G = generator
            def train_step(self, z):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self.G(z))
                grads = tape.gradient(loss, self.G.trainable_variables)
        class DCGAN(GAN):
            def __init__(self):
                super().__init__(tf.keras.Sequential([tf.keras.layers.BatchNormalization()]))
        """})
    [(line, code, detail)] = details(tmp_path, "gan.py")
    assert (line, code) == (7, "BN001")
    assert "its BatchNormalization runs in inference mode" in detail


def test_bn001_tensorlayer_model_of_a_sibling_module_is_not_keras(tmp_path):
    """zsdonghao/SRGAN: `from model import get_G` returns a TensorLayer
    `Model` (mode set by `G.train()`): no "if it holds" guess."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "model.py": """\
            import tensorlayer as tl
            from tensorlayer.models import Model

            def get_G(shape):
                nin = tl.layers.Input(shape)
                G = Model(inputs=nin, outputs=tl.layers.BatchNorm2d()(nin), name="generator")
                return G
            """,
        "train.py": """\
            import tensorflow as tf
            from model import get_G

            G = get_G((8, 96, 96, 3))
            G.train()
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(G(x))
            grads = tape.gradient(loss, G.trainable_weights)
            """,
    })
    assert findings(tmp_path, "train.py") == []
