"""The pre-filter may only skip work, never findings.

The pre-filter and the rules share one semantic model (bnlint/semantic),
so there is no second resolver to drift; these tests pin that turning the
pre-filter off changes no finding on any rule example or bundled example,
and that the model builds on random programs.
"""

import ast
import textwrap
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from bnlint.config import Config
from bnlint.engine import lint_bytes
from bnlint.api import load_api
from bnlint.semantic import SemanticModel
from bnlint.specs import load_specs

from fuzz_harness import TF_HEADER, every_rule

# hypothesmith compiles what it generates; CPython warns about odd but valid code.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")
ROOT = Path(__file__).resolve().parent.parent
KERAS3 = Config(keras="3")


def _sources():
    for code, spec in load_specs().items():
        for kind, examples in (("valid", spec.valid), ("invalid", spec.invalid)):
            for i, ex in enumerate(examples):
                yield f"{code}-{kind}-{i}", textwrap.dedent(ex.code)
    for path in sorted((ROOT / "examples").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


SOURCES = list(_sources())
ALIASES = [
    "from tensorflow.keras import Model as KModel\nclass Net(KModel):\n    pass\n",
    "import tensorflow as tf\ntf = tf.compat.v1\nL = tf.keras.layers\n",
    "from tensorflow import *\nfrom . import sibling\nfrom ..pkg import thing as t\n",
    "def f():\n    import tensorflow as tf\n    T = tf.GradientTape\nclass C:\n    import keras\n",
    "try:\n    import tf_keras as keras\nexcept ImportError:\n    from tensorflow import keras\n",
    "if True:\n    K = keras.backend\nimport keras\nK2 = keras.backend\n",
]


def _model(source: str):
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None  # the BN902 examples
    return SemanticModel.build(tree, load_api())


@pytest.mark.parametrize("source", ALIASES, ids=[f"alias-{i}" for i in range(len(ALIASES))])
def test_one_resolver_reads_the_spellings(source):
    """The pre-filter and the rules share one resolver (bnlint.semantic):
    each spelling resolves where it is read, through the binding in force."""
    model = _model(source + "probe = 0\n")
    assert model is not None
    names = model.names
    if "KModel" in source:
        assert names.qualify(model.scopes.classes[0].bases[0]) == "keras.Model"
    if "L = tf.keras.layers" in source:
        assert names.module_aliases()["L"] == "tensorflow.compat.v1.keras.layers"
        assert names.module_aliases()["tf"] == "tensorflow.compat.v1"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_semantic_model_builds_on_random_programs(program):
    """Any program CPython parses gets a model, and every call's callee
    resolves without raising."""
    model = _model(program)
    if model is None:
        return
    for site in model.scopes.sites:
        model.names.qualify(site.call.func)
        model.graph.target(site)


@pytest.mark.parametrize("source", [s for _, s in SOURCES], ids=[n for n, _ in SOURCES])
def test_prefilter_loses_no_finding(source):
    data = source.encode("utf-8")
    with_filter = lint_bytes(data, "example.py", KERAS3)
    with every_rule():
        without = lint_bytes(data, "example.py", KERAS3)
    assert [f.to_dict() for f in with_filter] == [f.to_dict() for f in without]


def test_aliased_model_base_reaches_bn002():
    """Regression: stage 2 used to match base classes by their last name
    only, so `class Net(KModel)` with `Model as KModel` was skipped."""
    source = textwrap.dedent("""\
        from tensorflow.keras import Model as KModel
        from tensorflow.keras import layers

        class Net(KModel):
            def __init__(self):
                super().__init__()
                self.bn = layers.BatchNormalization()

            def call(self, x):
                return self.bn(x)
        """)
    assert [f.code for f in lint_bytes(source.encode(), "net.py", KERAS3)] == ["BN002"]


def test_stage2_skips_tapes_that_call_no_model():
    """A file whose only GradientTape is in a comment passes the bytes but
    not stage 2 (no tape block, no train_step); a real tape block does."""
    from bnlint.prefilter import build_prefilter

    pf = build_prefilter(load_api())
    comment_only = TF_HEADER + b"y = tf.reduce_sum(x)\n"
    with_tape = comment_only + b"with tf.GradientTape() as t:\n    y = net(x)\n"
    for data, want in ((comment_only, set()), (with_tape, {"BN001"})):
        model = SemanticModel.build(ast.parse(data), load_api())
        assert pf.stage2(model, pf.stage1(data, {"BN001"}), data) == want


# Ways a class can hold BatchNormalization/Dropout without naming it in its
# own body; stage 2's taint must follow each one to the class.
TAINT_CASES = {
"except": '''
import tensorflow as tf
from tensorflow import keras
try:
    import foo
except ImportError:
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = keras.layers.BatchNormalization()
        def call(self, x):
            return self.bn(x)
''',
"argflow": '''
from tensorflow import keras
class Wrap(keras.Model):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
    def call(self, x):
        return self.inner(x)
m = Wrap(keras.layers.Dropout(0.5))
''',
"module_var": '''
from tensorflow import keras
bn = keras.layers.BatchNormalization()
class Net(keras.Model):
    def call(self, x):
        return bn(x)
''',
"alias": '''
from tensorflow import keras
from tensorflow.keras.layers import BatchNormalization as BN
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.b = BN()
    def call(self, x):
        return self.b(x)
''',
"enclosing": '''
from tensorflow import keras
def make():
    d = keras.layers.Dropout(0.1)
    class Net(keras.Model):
        def call(self, x):
            return d(x)
    return Net()
''',
"helper_fn": '''
from tensorflow import keras
def block():
    return keras.Sequential([keras.layers.BatchNormalization()])
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.b = block()
    def call(self, x):
        return self.b(x)
''',
"added": '''
from tensorflow import keras
seq = keras.Sequential()
seq.add(keras.layers.Dropout(0.2))
class Net(keras.Model):
    def call(self, x):
        return seq(x)
''',
}


@pytest.mark.parametrize("name", sorted(TAINT_CASES))
def test_taint_follows_contents_into_the_class(name):
    data = textwrap.dedent(TAINT_CASES[name]).encode()
    with_filter = [(f.code, f.line) for f in lint_bytes(data, "x.py", KERAS3)]
    with every_rule():
        without = [(f.code, f.line) for f in lint_bytes(data, "x.py", KERAS3)]
    assert with_filter == without
    assert without or name == "enclosing", "the case no longer exercises BN002"


def test_contents_from_a_project_module_are_not_filtered_out(tmp_path):
    """The project model follows `from detection import backbone` into the
    project (semantic/project.py), so a file that names no mode-sensitive layer itself can
    still hold one: found on dragen1860/TensorFlow-2.x-Tutorials."""
    (tmp_path / "backbone.py").write_text(textwrap.dedent("""\
        import tensorflow as tf

        class Backbone(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.bn = tf.keras.layers.BatchNormalization()

            def call(self, x, training=None):
                return self.bn(x, training=training)
        """))
    train = tmp_path / "detector.py"
    train.write_text(textwrap.dedent("""\
        import tensorflow as tf
        from backbone import Backbone

        class Detector(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.backbone = Backbone()

            def call(self, x, training=True):
                return self.backbone(x, training=training)
        """))
    data = train.read_bytes()
    with_filter = [(f.code, f.line) for f in lint_bytes(data, str(train), KERAS3)]
    with every_rule():
        without = [(f.code, f.line) for f in lint_bytes(data, str(train), KERAS3)]
    assert with_filter == without
    assert without, "the project module is no longer followed: this test lost its point"
