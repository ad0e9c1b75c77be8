"""Imports into the user's own project are followed (bnlint/semantic/project.py)."""

import json
import textwrap

from conftest import run_cli

PLAIN = """\
import tensorflow as tf

class PlainNet(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.head = tf.keras.layers.Dense(3)

    def call(self, x, training=None):
        return self.head(x)
"""

WITH_BN = """\
import tensorflow as tf

class PlainNet(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.bn = tf.keras.layers.BatchNormalization()

    def call(self, x, training=None):
        return self.bn(x)
"""

TRAIN = """\
import tensorflow as tf
from {module} import PlainNet

net = PlainNet()

def step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(net(x) - y))
    return tape.gradient(loss, net.trainable_variables)
"""


def _findings(tmp_path, *extra):
    result = run_cli("--output-format", "json", *extra, str(tmp_path), cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr.decode()
    return [(f["filename"].rsplit("/", 1)[-1], f["line"], f["code"], f"{f['message']} {f['detail']}")
            for f in json.loads(result.stdout)]


def test_sibling_model_without_mode_layers_is_not_reported(tmp_path):
    (tmp_path / "plainnet.py").write_text(PLAIN)
    (tmp_path / "train.py").write_text(TRAIN.format(module="plainnet"))
    assert _findings(tmp_path, "--no-cache") == []


def test_sibling_model_with_batch_norm_is_reported_as_holding_it(tmp_path):
    (tmp_path / "plainnet.py").write_text(WITH_BN)
    (tmp_path / "train.py").write_text(TRAIN.format(module="plainnet"))
    found = _findings(tmp_path, "--no-cache")
    assert [(f, line, code) for f, line, code, _ in found] == [("train.py", 8, "BN001")]
    assert "its BatchNormalization runs in inference mode" in found[0][3]


def test_package_and_relative_imports(tmp_path):
    pkg = tmp_path / "proj"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text("")
    (pkg / "models" / "net.py").write_text(WITH_BN)
    (pkg / "train_abs.py").write_text(TRAIN.format(module="proj.models.net"))
    (pkg / "train_rel.py").write_text(TRAIN.format(module=".models.net"))
    found = {(f, code) for f, _, code, _ in _findings(tmp_path, "--no-cache")}
    assert found == {("train_abs.py", "BN001"), ("train_rel.py", "BN001")}


def test_unknown_module_stays_a_conditional_finding(tmp_path):
    """...which is BN011, off by default (a guess)."""
    (tmp_path / "train.py").write_text(TRAIN.format(module="somewhere_else"))
    assert _findings(tmp_path, "--no-cache") == []
    found = _findings(tmp_path, "--no-cache", "--extend-select", "BN011")
    assert [(f, code) for f, _, code, _ in found] == [("train.py", "BN011")]
    assert "if it holds BatchNormalization or Dropout" in found[0][3]


def test_cache_notices_a_changed_sibling(tmp_path):
    cache = tmp_path.parent / (tmp_path.name + "-cache")
    (tmp_path / "plainnet.py").write_text(WITH_BN)
    (tmp_path / "train.py").write_text(TRAIN.format(module="plainnet"))
    assert len(_findings(tmp_path, "--cache-dir", str(cache))) == 1
    (tmp_path / "plainnet.py").write_text(PLAIN)  # train.py itself is unchanged
    assert _findings(tmp_path, "--cache-dir", str(cache)) == []
    (tmp_path / "plainnet.py").write_text(textwrap.dedent(WITH_BN))
    assert len(_findings(tmp_path, "--cache-dir", str(cache))) == 1


def test_cache_notices_a_sibling_that_appears(tmp_path):
    cache = tmp_path.parent / (tmp_path.name + "-cache")
    (tmp_path / "train.py").write_text(TRAIN.format(module="plainnet"))
    first = _findings(tmp_path, "--cache-dir", str(cache), "--extend-select", "BN011")
    assert "if it holds" in first[0][3]  # plainnet.py does not exist yet
    (tmp_path / "plainnet.py").write_text(PLAIN)
    assert _findings(tmp_path, "--cache-dir", str(cache), "--extend-select", "BN011") == []


def test_star_import_from_a_sibling(tmp_path):
    (tmp_path / "nets.py").write_text(PLAIN)
    (tmp_path / "bnnets.py").write_text(WITH_BN.replace("PlainNet", "BNNet"))
    (tmp_path / "train.py").write_text(TRAIN.format(module="nets").replace(
        "from nets import PlainNet", "from nets import *"))
    (tmp_path / "train_bn.py").write_text(TRAIN.format(module="bnnets").replace(
        "from bnnets import PlainNet", "from bnnets import *").replace("PlainNet()", "BNNet()"))
    found = {(f, code) for f, _, code, _ in _findings(tmp_path, "--no-cache")}
    assert found == {("train_bn.py", "BN001")}


def test_functional_model_over_a_sibling_builder(tmp_path):
    (tmp_path / "backbone.py").write_text(
        "import tensorflow as tf\n\n"
        "def build(x):\n"
        "    outs = []\n"
        "    for width in (8, 16):\n"
        "        x = tf.keras.layers.Dense(width)(x)\n"
        "        x = tf.keras.layers.BatchNormalization()(x)\n"
        "        outs.append(x)\n"
        "    return outs\n")
    (tmp_path / "train.py").write_text(
        "import tensorflow as tf\nfrom backbone import build\n\n"
        "inp = tf.keras.Input((4,))\nmodel = tf.keras.Model(inp, build(inp))\n\n"
        "def step(x):\n"
        "    with tf.GradientTape() as tape:\n"
        "        loss = tf.reduce_mean(model(x)[0])\n"
        "    return tape.gradient(loss, model.trainable_variables)\n")
    found = _findings(tmp_path, "--no-cache")
    assert [(f, line, code) for f, line, code, _ in found] == [("train.py", 9, "BN001")]
    assert "its BatchNormalization" in found[0][3]


def test_sibling_class_whose_call_defaults_to_training(tmp_path):
    (tmp_path / "plainnet.py").write_text(WITH_BN.replace("training=None", "training=True"))
    (tmp_path / "train.py").write_text(TRAIN.format(module="plainnet"))
    found = {(f, code) for f, _, code, _ in _findings(tmp_path, "--no-cache")}
    assert found == {("plainnet.py", "BN002")}  # the default trains; BN002 reports the default


def test_sibling_class_with_training_default_passed_as_an_argument(tmp_path):
    (tmp_path / "model.py").write_text(WITH_BN.replace("training=None", "training=True"))
    (tmp_path / "main2.py").write_text(
        "import tensorflow as tf\nfrom model import PlainNet\n\n"
        "def train(model, opt, x):\n"
        "    with tf.GradientTape() as tape:\n"
        "        loss = tf.reduce_mean(model(x))\n"
        "    return tape.gradient(loss, model.trainable_variables)\n\n"
        "def main():\n"
        "    model = PlainNet()\n"
        "    train(model, None, tf.zeros([2, 4]))\n")
    found = {(f, code) for f, _, code, _ in _findings(tmp_path, "--no-cache")}
    assert found == {("model.py", "BN002")}
