"""Keras flavour: Keras 2 (tf_keras, TF_USE_LEGACY_KERAS=1) or Keras 3.

The file decides first (imports, the env variable set in code), then the
config's `keras`, then for "auto" the installed distributions. Two BN002
findings are Keras-3-only (no `training` in a Model's call; a literal
`training=` leaking to later siblings) and say so; BN001 holds for both.
"""

import ast
import json
import os
import textwrap

import pytest

from bnlint.api import load_api
from bnlint.config import Config
from bnlint.flavour import detect_flavour
from bnlint.semantic import SemanticModel

from conftest import run_bnlint, run_cli
from helpers import found, lint



def model_without_training(header: str, base: str) -> str:
    """A Model subclass whose call() lacks `training`; BN002 on line 9 + header lines."""
    return textwrap.dedent(header) + textwrap.dedent(f"""\


        class Net({base}.Model):
            def __init__(self):
                super().__init__()
                self.bn = {base}.layers.BatchNormalization()

            def call(self, x):
                return self.bn(x)
    """)


def call_line(source: str) -> int:
    return next(i for i, l in enumerate(source.splitlines(), 1) if "def call" in l)


LEAK = textwrap.dedent("""\
    {header}

    class Head(keras.Model):
        def __init__(self):
            super().__init__()
            self.backbone = keras.layers.BatchNormalization()
            self.head_bn = keras.layers.BatchNormalization()

        def call(self, x, training=None):
            f = self.backbone(x, training=False)
            return self.head_bn(f)
""")


def flavour_of(source: str, configured: str = "auto") -> str:
    return detect_flavour(SemanticModel.build(ast.parse(source), load_api()).names, source, configured)


# -- Keras 3 spellings ---------------------------------------------------------------------
@pytest.mark.parametrize("header,base", [
    ("import keras\n", "keras"),
    ("import tensorflow as tf\n", "tf.keras"),
    ("from tensorflow import keras\n", "keras"),
])
def test_keras3_file_gets_keras3_only_finding(header, base):
    src = model_without_training(header, base)
    findings = lint(src, Config(keras="3"))
    assert found(findings) == {(call_line(src), "BN002")}
    assert findings[0].flavour == "keras3"
    assert findings[0].message.startswith("[Keras 3]")


# -- Keras 2 from the file ----------------------------------------------------------------
@pytest.mark.parametrize("header,base", [
    ("import tf_keras\n", "tf_keras"),
    ("import tf_keras as keras\n", "keras"),
    ("from tf_keras import layers\nimport tf_keras\n", "tf_keras"),
])
def test_tf_keras_import_means_keras2(header, base):
    src = model_without_training(header, base)
    assert flavour_of(src, "3") == "keras2"
    # Even when the config says Keras 3, the file's own import wins.
    assert lint(src, Config(keras="3")) == []


@pytest.mark.parametrize("env_line", [
    'os.environ["TF_USE_LEGACY_KERAS"] = "1"',
    "os.environ['TF_USE_LEGACY_KERAS'] = '1'",
    'os.environ["TF_USE_LEGACY_KERAS"]="True"',
    'os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")',
    'os.environ["TF_USE_LEGACY_KERAS"] = "true"',
])
def test_legacy_env_in_code_means_keras2(env_line):
    header = f"import os\n{env_line}\nimport tensorflow as tf\n"
    src = model_without_training(header, "tf.keras")
    assert flavour_of(src, "3") == "keras2"
    assert lint(src, Config(keras="3")) == []


def test_tf_keras_import_does_not_change_tf_keras_models():
    src = model_without_training("import tensorflow as tf\nimport tf_keras\n", "tf.keras")
    assert found(lint(src, Config(keras="3"))) == {(call_line(src), "BN002")}


@pytest.mark.parametrize("env_line", [
    'os.environ.update({"TF_USE_LEGACY_KERAS": "1"})',
    'os.environ.update(TF_USE_LEGACY_KERAS="1")',
])
def test_legacy_env_through_update_means_keras2(env_line):
    header = f"import os\n{env_line}\nimport tensorflow as tf\n"
    assert flavour_of(model_without_training(header, "tf.keras"), "3") == "keras2"


@pytest.mark.parametrize("env_line", [
    'os.environ["TF_USE_LEGACY_KERAS"] = "0"',
    'os.environ["TF_USE_LEGACY_KERAS"] = "false"',
    'os.environ.pop("TF_USE_LEGACY_KERAS", None)',
])
def test_legacy_env_off_stays_keras3(env_line):
    header = f"import os\n{env_line}\nimport tensorflow as tf\n"
    src = model_without_training(header, "tf.keras")
    assert flavour_of(src, "3") == "keras3"
    assert found(lint(src, Config(keras="3"))) == {(call_line(src), "BN002")}


# -- the leak (Keras 3 only) -----------------------------------------------------------------
def test_leak_is_keras3_only():
    keras3 = LEAK.format(header="import keras")
    findings = lint(keras3, Config(keras="3"))
    assert found(findings) == {(11, "BN002")}
    assert findings[0].flavour == "keras3" and "[Keras 3]" in findings[0].message
    keras2 = LEAK.format(header="import tf_keras as keras")
    assert lint(keras2, Config(keras="3")) == []
    assert lint(keras3, Config(keras="2")) == []


# -- config ------------------------------------------------------------------------------
def test_config_keras_decides_when_the_file_does_not():
    src = model_without_training("import keras\n", "keras")
    assert flavour_of(src, "2") == "keras2"
    assert flavour_of(src, "3") == "keras3"
    assert lint(src, Config(keras="2")) == []
    assert found(lint(src, Config(keras="3"))) == {(call_line(src), "BN002")}


def test_both_flavour_findings_are_not_tagged():
    src = textwrap.dedent("""\
        import tf_keras
        import tensorflow as tf
        net = tf_keras.Sequential([tf_keras.layers.BatchNormalization()])
        with tf.GradientTape() as tape:
            out = net(batch)
    """)
    for cfg in (Config(keras="2"), Config(keras="3")):
        findings = lint(src, cfg)
        assert found(findings) == {(5, "BN001")}
        assert findings[0].flavour is None
        assert "[Keras" not in findings[0].message


def test_flavour_in_json_output(tmp_path):
    (tmp_path / "k3.py").write_text(model_without_training("import keras\n", "keras"))
    (tmp_path / "k2.py").write_text(model_without_training("import tf_keras\n", "tf_keras"))
    result = run_cli("--no-cache", "--keras", "3", "--output-format", "json", ".", cwd=tmp_path)
    recs = json.loads(result.stdout)
    assert [(os.path.basename(r["filename"]), r["code"], r["flavour"]) for r in recs] == \
        [("k3.py", "BN002", "keras3")]


# -- auto: the installed distributions, read from metadata -------------------------------------
def fake_keras(tmp_path, version: str) -> str:
    """A directory that makes importlib.metadata see keras==version first."""
    site = tmp_path / f"site-{version}"
    info = site / f"keras-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: keras\nVersion: {version}\n")
    return str(site)


@pytest.mark.parametrize("version,reported", [("2.15.0", False), ("3.5.0", True)])
def test_auto_uses_installed_keras_version(tmp_path, version, reported):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "net.py").write_text(model_without_training("import tensorflow as tf\n", "tf.keras"))
    env = {"PYTHONPATH": fake_keras(tmp_path, version)}
    result = run_bnlint("--no-cache", "--output-format", "json", ".", cwd=project, env=env)
    assert result.returncode == (1 if reported else 0), result.stderr.decode()
    assert [r["code"] for r in json.loads(result.stdout)] == (["BN002"] if reported else [])
    # An explicit --keras beats what is installed.
    forced = run_bnlint("--no-cache", "--keras", "3" if not reported else "2", ".", cwd=project, env=env)
    assert forced.returncode == (0 if reported else 1)


def test_auto_never_imports_tensorflow(tmp_path):
    # A poisoned `tensorflow`/`keras` on the path would raise if imported.
    poison = tmp_path / "poison"
    for name in ("tensorflow", "keras", "tf_keras"):
        (poison / name).mkdir(parents=True)
        (poison / name / "__init__.py").write_text("raise SystemExit('imported " + name + "')\n")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "net.py").write_text(model_without_training("import tensorflow as tf\n", "tf.keras"))
    result = run_bnlint("--no-cache", ".", cwd=project, env={"PYTHONPATH": str(poison)})
    assert result.returncode in (0, 1), result.stderr.decode()
    assert b"imported" not in result.stdout + result.stderr
