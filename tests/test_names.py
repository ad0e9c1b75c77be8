"""Import and alias variants: one test per spelling.

Each test does two things: it checks the semantic model's resolver
(`bnlint.semantic.resolve.Resolver.qualify`, an expression read at the end
of the module, through the bindings in force there) maps the spelling onto the canonical name the rule tables
use, and it lints a small program written with that spelling and expects
the rule finding on the marked line. Where it helps, a control program with
the same spelling but a harmless layer shows that the finding comes from
resolving the name, not from a guess.
"""

import ast

import pytest

from bnlint.api import canonical, load_api
from bnlint.config import Config
from bnlint.semantic import SemanticModel

from helpers import expected, found, lint

KERAS3 = Config(keras="3")


class _At:
    """Questions about expressions written at the end of `source`."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _ask(self, expr: str, how: str):
        tree = ast.parse(self.source + "\n" + expr + "\n")
        model = SemanticModel.build(tree, load_api())
        return getattr(model.names, how)(tree.body[-1].value)

    def qualify(self, expr: str):
        return self._ask(expr, "qualify")

    def raw(self, expr: str):
        return self._ask(expr, "raw")

    def qualify_star(self, name: str, known):
        q = self.qualify(name)
        return q if q in known else None


def resolver(source: str) -> _At:
    return _At(source)


def q(source: str, expr: str):
    return resolver(source).qualify(expr)


def assert_finds(code: str, config: Config = KERAS3):
    want = expected(code)
    assert want, "test bug: no `# expect:` mark"
    got = found(lint(code, config))
    assert got == want


def assert_clean(code: str, config: Config = KERAS3):
    findings = lint(code, config)
    assert findings == [], [(f.line, f.code, f.message) for f in findings]


# -- import tensorflow as tf ---------------------------------------------------
def test_import_tensorflow_as_tf_qualify():
    src = "import tensorflow as tf\n"
    assert q(src, "tf.keras.layers.BatchNormalization") == "keras.layers.BatchNormalization"
    assert q(src, "tf.GradientTape") == "tensorflow.GradientTape"
    assert q(src, "np.zeros") is None


def test_import_tensorflow_as_tf_finding():
    assert_finds("""\
        import tensorflow as tf
        net = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])
        with tf.GradientTape() as tape:
            out = net(batch)  # expect: BN001
        grads = tape.gradient(out, net.trainable_variables)
    """)


def test_plain_import_tensorflow_qualify_and_finding():
    src = "import tensorflow\n"
    assert q(src, "tensorflow.keras.layers.Dropout") == "keras.layers.Dropout"
    assert_finds("""\
        import tensorflow
        net = tensorflow.keras.Sequential([tensorflow.keras.layers.Dropout(0.3)])
        with tensorflow.GradientTape() as tape:
            out = net(batch)  # expect: BN001
    """)


# -- from tensorflow import keras ---------------------------------------------------
def test_from_tensorflow_import_keras_qualify():
    src = "from tensorflow import keras\n"
    assert q(src, "keras.layers.BatchNormalization") == "keras.layers.BatchNormalization"
    assert q(src, "keras.Model") == "keras.Model"


def test_from_tensorflow_import_keras_finding():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow import keras
        net = keras.Sequential([keras.layers.Dense(3), keras.layers.Dropout(0.5)])
        with tf.GradientTape() as tape:
            out = net(batch)  # expect: BN001
    """)


def test_from_tensorflow_import_keras_model_subclass_finding():
    assert_finds("""\
        from tensorflow import keras

        class Tower(keras.Model):
            def __init__(self):
                super().__init__()
                self.norm = keras.layers.BatchNormalization()

            def call(self, x):  # expect: BN002
                return self.norm(x)
    """)


# -- import keras ----------------------------------------------------------------------
def test_import_keras_qualify():
    src = "import keras\n"
    assert q(src, "keras.layers.BatchNormalization") == "keras.layers.BatchNormalization"
    # Deep module paths fold onto the public name.
    assert q("import keras.src.layers as kl\n", "kl.Dropout") == "keras.layers.Dropout"


def test_import_keras_functional_finding():
    assert_finds("""\
        import keras
        import tensorflow as tf
        inputs = keras.Input((4,))
        hidden = keras.layers.BatchNormalization()(inputs)
        net = keras.Model(inputs, hidden)
        with tf.GradientTape() as tape:
            out = net(batch)  # expect: BN001
    """)


# -- import tf_keras ------------------------------------------------------------------
def test_import_tf_keras_qualify():
    src = "import tf_keras\n"
    assert q(src, "tf_keras.layers.BatchNormalization") == "keras.layers.BatchNormalization"
    assert q("import tf_keras as k2\n", "k2.Model") == "keras.Model"


def test_import_tf_keras_finding():
    assert_finds("""\
        import tensorflow as tf
        import tf_keras
        net = tf_keras.Sequential([tf_keras.layers.BatchNormalization()])
        with tf.GradientTape() as tape:
            out = net(batch)  # expect: BN001
    """)


# -- from tensorflow.keras import layers as L -------------------------------------------
def test_layers_as_L_qualify():
    src = "from tensorflow.keras import layers as L\n"
    assert q(src, "L.BatchNormalization") == "keras.layers.BatchNormalization"
    assert q(src, "L.Dense") == "keras.layers.Dense"


def test_layers_as_L_finding():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow.keras import layers as L
        net = tf.keras.Sequential([L.Dense(2), L.BatchNormalization()])
        with tf.GradientTape() as g:
            out = net(batch)  # expect: BN001
    """)


def test_layers_as_L_dense_only_is_clean():
    assert_clean("""\
        import tensorflow as tf
        from tensorflow.keras import layers as L
        net = tf.keras.Sequential([L.Dense(2), L.Dense(1)])
        with tf.GradientTape() as g:
            out = net(batch)
    """)


# -- from tensorflow.keras.layers import BatchNormalization as BN -----------------------
def test_batchnorm_as_BN_qualify():
    src = "from tensorflow.keras.layers import BatchNormalization as BN, Dense\n"
    assert q(src, "BN") == "keras.layers.BatchNormalization"
    assert q(src, "Dense") == "keras.layers.Dense"
    assert q(src, "BatchNormalization") is None  # only the alias is bound


def test_batchnorm_as_BN_finding():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow.keras.layers import BatchNormalization as BN, Dense
        net = tf.keras.Sequential([Dense(2), BN()])
        with tf.GradientTape() as g:
            out = net(batch)  # expect: BN001
    """)


def test_other_layer_as_BN_is_clean():
    # Same local name, harmless layer: the finding above comes from resolving BN.
    assert_clean("""\
        import tensorflow as tf
        from tensorflow.keras.layers import LayerNormalization as BN, Dense
        net = tf.keras.Sequential([Dense(2), BN()])
        with tf.GradientTape() as g:
            out = net(batch)
    """)


def test_batchnorm_as_BN_in_subclass_sublayer_dot_call():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow.keras.layers import BatchNormalization as BN

        class Block(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.bn = BN()

            def call(self, x, training=None):
                return self.bn.call(x)  # expect: BN002
    """)


# -- tf = tf.compat.v1 ----------------------------------------------------------------------
def test_tf_equals_compat_v1_qualify():
    src = "import tensorflow as tf\ntf = tf.compat.v1\n"
    assert q(src, "tf.layers.batch_normalization") == "tensorflow.layers.batch_normalization"
    assert q(src, "tf.GraphKeys.UPDATE_OPS") == "tensorflow.GraphKeys.UPDATE_OPS"


def test_tf_equals_compat_v1_finding():
    assert_finds("""\
        import tensorflow as tf
        tf = tf.compat.v1
        tf.disable_v2_behavior()
        x = tf.placeholder(tf.float32, [None, 3])
        h = tf.layers.batch_normalization(x, training=is_training)
        op = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(h))  # expect: BN003
    """)


def test_tf_equals_compat_v1_fixed_is_clean():
    assert_clean("""\
        import tensorflow as tf
        tf = tf.compat.v1
        x = tf.placeholder(tf.float32, [None, 3])
        h = tf.layers.batch_normalization(x, training=is_training)
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            op = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(h))
    """)


def test_v1_alias_under_another_name():
    src = "import tensorflow as tf\nv1 = tf.compat.v1\n"
    assert q(src, "v1.layers.batch_normalization") == "tensorflow.layers.batch_normalization"
    assert_finds("""\
        import tensorflow as tf
        v1 = tf.compat.v1
        h = v1.layers.batch_normalization(v1.placeholder(tf.float32), training=is_training)
        op = v1.train.AdamOptimizer().minimize(tf.reduce_sum(h))  # expect: BN003
    """)


# -- import tensorflow.compat.v1 as tf ---------------------------------------------------------
def test_import_compat_v1_as_tf_qualify():
    src = "import tensorflow.compat.v1 as tf\n"
    assert q(src, "tf.layers.batch_normalization") == "tensorflow.layers.batch_normalization"
    assert q(src, "tf.keras.layers.BatchNormalization") == "keras.layers.BatchNormalization"
    assert q(src, "tf.train.AdamOptimizer") == "tensorflow.train.AdamOptimizer"


def test_import_compat_v1_as_tf_finding():
    assert_finds("""\
        import tensorflow.compat.v1 as tf
        x = tf.placeholder(tf.float32, [None, 3])
        h = tf.layers.batch_normalization(x, training=is_training)
        op = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(h))  # expect: BN003
    """)


def test_from_compat_import_v1_as_tf_finding():
    src = "from tensorflow.compat import v1 as tf\n"
    assert q(src, "tf.layers.batch_normalization") == "tensorflow.layers.batch_normalization"
    assert_finds("""\
        from tensorflow.compat import v1 as tf
        h = tf.layers.batch_normalization(tf.placeholder(tf.float32), training=is_training)
        op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(h))  # expect: BN003
    """)


# -- from tensorflow.contrib import slim --------------------------------------------------------
def test_contrib_slim_qualify():
    src = "from tensorflow.contrib import slim\n"
    assert q(src, "slim.batch_norm") == "tensorflow.contrib.slim.batch_norm"
    assert load_api().tf1_builder(q(src, "slim.batch_norm")) is not None


def test_contrib_slim_finding():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow.contrib import slim
        h = slim.batch_norm(inputs, is_training=is_training)
        op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(h))  # expect: BN003
    """)


def test_contrib_slim_normalizer_fn_finding():
    assert_finds("""\
        import tensorflow as tf
        import tensorflow.contrib.slim as slim
        h = slim.conv2d(inputs, 16, 3, normalizer_fn=slim.batch_norm,
                        normalizer_params={"is_training": is_training})
        op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(tf.reduce_sum(h))  # expect: BN003
    """)


def test_contrib_layers_batch_norm_finding():
    assert q("import tensorflow as tf\n", "tf.contrib.layers.batch_norm") == \
        "tensorflow.contrib.layers.batch_norm"
    assert_finds("""\
        import tensorflow as tf
        h = tf.contrib.layers.batch_norm(inputs, is_training=is_training)
        op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(h))  # expect: BN003
    """)


# -- import tf_slim as slim ----------------------------------------------------------------
def test_tf_slim_qualify():
    src = "import tf_slim as slim\n"
    assert q(src, "slim.batch_norm") == "tf_slim.batch_norm"
    assert load_api().tf1_builder("tf_slim.batch_norm") is not None


def test_tf_slim_finding():
    assert_finds("""\
        import tensorflow.compat.v1 as tf
        import tf_slim as slim
        h = slim.batch_norm(inputs, is_training=is_training)
        op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(h))  # expect: BN003
    """)


def test_tf_slim_updates_collections_none_is_clean():
    assert_clean("""\
        import tensorflow.compat.v1 as tf
        import tf_slim as slim
        h = slim.batch_norm(inputs, is_training=is_training, updates_collections=None)
        op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(h))
    """)


# -- star imports --------------------------------------------------------------------------
def test_star_import_qualify_star():
    r = resolver("from tensorflow.keras.layers import *\n")
    known = load_api().all_known_names()
    assert r.qualify_star("BatchNormalization", known) == "keras.layers.BatchNormalization"
    assert r.qualify_star("NotAThing", known) is None
    r2 = resolver("from tensorflow import *\n")
    assert r2.qualify_star("GradientTape", known) == "tensorflow.GradientTape"


def test_star_import_finding():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow.keras.layers import *
        from tensorflow.keras import *
        net = Sequential([Dense(2), BatchNormalization()])
        with tf.GradientTape() as g:
            out = net(batch)  # expect: BN001
    """)


def test_star_import_harmless_layers_clean():
    assert_clean("""\
        import tensorflow as tf
        from tensorflow.keras.layers import *
        net = tf.keras.Sequential([Dense(2), LayerNormalization()])
        with tf.GradientTape() as g:
            out = net(batch)
    """)


def test_star_import_of_tensorflow_gives_gradient_tape():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow import *
        net = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
        with GradientTape() as g:
            out = net(batch)  # expect: BN001
    """)


def test_local_class_shadows_star_import():
    # A class defined in the file is not the star-imported Keras one.
    assert_clean("""\
        import tensorflow as tf
        from tensorflow.keras.layers import *

        class BatchNormalization:
            def __call__(self, x):
                return x

        net = tf.keras.Sequential([Dense(2), BatchNormalization()])
        with tf.GradientTape() as g:
            out = net(batch)
    """)


def test_star_import_of_tensorflow_gives_keras_module():
    assert_finds("""\
        import tensorflow as tf
        from tensorflow import *
        net = keras.Sequential([keras.layers.BatchNormalization()])
        with tf.GradientTape() as g:
            out = net(batch)  # expect: BN001
    """)


# -- non-TF names are left alone ---------------------------------------------------------------
def test_relative_and_unrelated_imports_are_not_tf():
    src = "from . import layers\nimport numpy as np\nfrom .keras import Model\n"
    assert q(src, "np.mean") == "numpy.mean"  # tracked as written, never folded to TF
    assert not (q(src, "layers.BatchNormalization") or "").startswith("keras.")
    assert not (q(src, "Model") or "").startswith("keras.")


def test_canonical_folding_table():
    assert canonical("tensorflow.compat.v1.keras.layers.BatchNormalization") == \
        "keras.layers.BatchNormalization"
    assert canonical("tensorflow.python.keras.layers.Dropout") == "keras.layers.Dropout"
    assert canonical("tensorflow.compat.v2.GradientTape") == "tensorflow.GradientTape"
    assert canonical("tensorflowx.foo") == "tensorflowx.foo"
    assert canonical("kerasx.layers.Dense") == "kerasx.layers.Dense"


def test_alias_inside_function_is_not_module_alias():
    # `tf = tf.compat.v1` inside a function does not rebind the module name.
    r = resolver("import tensorflow as tf\ndef f():\n    tf = tf.compat.v1\n")
    assert r.qualify("tf.layers.dense") == "tensorflow.layers.dense"
    assert r.raw("tf.layers.dense") == "tensorflow.layers.dense"


# -- more spellings seen in real code, each driving a finding ---------------------------------
KERAS_SPELLINGS = [
    ("from tensorflow.keras import Sequential, layers", "Sequential", "layers.BatchNormalization", "tf.GradientTape"),
    ("from keras import layers\nimport keras", "keras.Sequential", "layers.BatchNormalization", "tf.GradientTape"),
    ("from keras.layers import BatchNormalization\nfrom keras.models import Sequential",
     "Sequential", "BatchNormalization", "tf.GradientTape"),
    ("K = tf.keras", "K.Sequential", "K.layers.BatchNormalization", "tf.GradientTape"),
    ("layers = tf.keras.layers", "tf.keras.Sequential", "layers.BatchNormalization", "tf.GradientTape"),
    ("BNL = tf.keras.layers.BatchNormalization", "tf.keras.Sequential", "BNL", "tf.GradientTape"),
    ("from tensorflow import GradientTape", "tf.keras.Sequential", "tf.keras.layers.BatchNormalization", "GradientTape"),
    ("GT = tf.GradientTape", "tf.keras.Sequential", "tf.keras.layers.BatchNormalization", "GT"),
    ("import keras as K", "K.Sequential", "K.layers.BatchNormalization", "tf.GradientTape"),
    ("from tensorflow import keras as k", "k.models.Sequential", "k.layers.BatchNormalization", "tf.GradientTape"),
    ("import tf_keras as tfk", "tfk.Sequential", "tfk.layers.Dropout", "tf.GradientTape"),
    ("from tensorflow.keras import layers as L, models as M", "M.Sequential", "L.SpatialDropout2D", "tf.GradientTape"),
    ("import tensorflow.compat.v2 as tf2", "tf2.keras.Sequential", "tf2.keras.layers.BatchNormalization", "tf2.GradientTape"),
    ("from tensorflow.compat.v1 import keras", "keras.Sequential", "keras.layers.BatchNormalization", "tf.GradientTape"),
    ("from tensorflow.python.keras.layers import BatchNormalization", "tf.keras.Sequential",
     "BatchNormalization", "tf.GradientTape"),
    ("from tensorflow.keras.layers import *", "tf.keras.Sequential", "SyncBatchNormalization", "tf.GradientTape"),
]


@pytest.mark.parametrize("imports,seq,layer,tape", KERAS_SPELLINGS, ids=[s[0] for s in KERAS_SPELLINGS])
def test_more_keras_spellings(imports, seq, layer, tape):
    code = (f"import tensorflow as tf\n{imports}\n"
            f"net = {seq}([{layer}()])\n"
            f"with {tape}() as g:\n"
            f"    y = net(x)  # expect: BN001\n")
    assert_finds(code)
    # The same program with a harmless layer is clean: the name was resolved.
    harmless = code.replace(f"[{layer}()]", "[tf.keras.layers.Dense(1)]").replace("  # expect: BN001", "")
    assert_clean(harmless)


TF1_SPELLINGS = [
    ("from tensorflow.compat.v1.layers import batch_normalization as bnorm", "bnorm", "training"),
    ("from tensorflow.layers import batch_normalization", "batch_normalization", "training"),
    ("tf1 = tf.compat.v1", "tf1.layers.batch_normalization", "training"),
    ("from tensorflow.compat.v1 import layers", "layers.batch_normalization", "training"),
    ("from tensorflow.contrib.layers import batch_norm", "batch_norm", "is_training"),
    ("from tf_slim import batch_norm", "batch_norm", "is_training"),
    ("from tf_slim.layers import batch_norm", "batch_norm", "is_training"),
    ("from tensorflow.contrib.slim import batch_norm", "batch_norm", "is_training"),
    ("import tf_slim", "tf_slim.layers.batch_norm", "is_training"),
    ("from tensorflow.contrib import layers as tcl", "tcl.batch_norm", "is_training"),
    ("import tensorflow.compat.v1 as v1\nBN = v1.layers.batch_normalization", "BN", "training"),
]


@pytest.mark.parametrize("imports,builder,arg", TF1_SPELLINGS, ids=[s[0] for s in TF1_SPELLINGS])
def test_more_tf1_builder_spellings(imports, builder, arg):
    code = (f"import tensorflow as tf\n{imports}\n"
            f"h = {builder}(x, {arg}=flag)\n"
            "op = tf.compat.v1.train.AdamOptimizer().minimize(tf.reduce_sum(h))  # expect: BN003\n")
    assert_finds(code)
    # Not batch norm (a dense layer in its place): clean.
    assert_clean(code.replace(f"h = {builder}(x, {arg}=flag)", "h = tf.compat.v1.layers.dense(x, 4)")
                 .replace("  # expect: BN003", ""))
