"""Stage 1 looks into the sibling modules a file imports (every import
form), and never fails on them.

Found after merging the linear `_IMPORT` pattern (named groups) with the
sibling look-up (numbered groups): every file that imported a project
module with `import x` was BN903, which lost every finding of notebooks
such as a DCGAN tutorial whose cells `import` a sibling.
"""

import json
import textwrap

import pytest

from bnlint.config import Config
from bnlint.engine import lint_bytes

OPS = """\
import tensorflow as tf


def bn(x, train):
    return tf.layers.batch_normalization(x, training=train)
"""

MODEL = """\
import tensorflow as tf
{imp}


class Model:
    def __init__(self, x):
        self.is_train = tf.placeholder(tf.bool)
        h = {call}(x, self.is_train)
        loss = tf.reduce_mean(h)
        self.op = tf.train.AdamOptimizer(1e-3).minimize(loss)  # BN003
"""

FORMS = [
    ("import ops", "ops.bn"),
    ("import os, ops", "ops.bn"),
    ("import ops as o", "o.bn"),
    ("from ops import bn", "bn"),
    ("from ops import (\n    bn,\n)", "bn"),
    ("import ops \\\n    as o", "o.bn"),
]


@pytest.mark.parametrize("imp,call", FORMS, ids=[f[0].split("\n")[0] for f in FORMS])
def test_every_import_form_reaches_the_sibling(tmp_path, imp, call):
    (tmp_path / "ops.py").write_text(OPS)
    source = MODEL.format(imp=imp, call=call)
    (tmp_path / "model.py").write_text(source)
    findings = lint_bytes(source.encode(), str(tmp_path / "model.py"), Config(keras="2"))
    assert [f.code for f in findings] == ["BN003"], [(f.code, f.message) for f in findings]


def test_a_notebook_importing_a_sibling_is_linted(tmp_path):
    (tmp_path / "ops.py").write_text(OPS)
    cells = [MODEL.format(imp="import ops", call="ops.bn")]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": c.splitlines(keepends=True)} for c in cells],
          "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "train.ipynb"
    path.write_text(json.dumps(nb))
    findings = lint_bytes(path.read_bytes(), str(path), Config(keras="2"))
    assert [f.code for f in findings] == ["BN003"], [(f.code, f.message) for f in findings]


@pytest.mark.parametrize("imp,call", [
    ("from lib import ops as L", "L.bn"),
    ("from lib import ops", "ops.bn"),
    ("from lib import (\n    ops,\n)", "ops.bn"),
])
def test_a_module_imported_from_its_package_reaches_the_sibling(tmp_path, imp, call):
    """`from lib import ops as L`: the module found for `lib` is its empty
    `__init__.py`; the package's own modules hold the batch norm (found by
    planting it, newcomer session: the pre-filter dropped the file)."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("")
    (tmp_path / "lib" / "ops.py").write_text(OPS)
    source = MODEL.format(imp=imp, call=call)
    (tmp_path / "model.py").write_text(source)
    findings = lint_bytes(source.encode(), str(tmp_path / "model.py"), Config(keras="2"))
    assert [f.code for f in findings] == ["BN003"], [(f.code, f.message) for f in findings]
    # a package none of whose modules builds batch norm: nothing
    (tmp_path / "lib" / "ops.py").write_text(OPS.replace("tf.layers.batch_normalization(x, training=train)",
                                                         "tf.layers.dense(x, 4)"))
    assert lint_bytes(source.encode(), str(tmp_path / "model.py"), Config(keras="2")) == []
