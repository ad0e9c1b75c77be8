"""Messages: the one line says what is wrong and what to do in at most 120
characters; the rest (why, which layer, which flavour) is in
`--output-format full` and the rule docs (issue 13)."""

import re
import string
import textwrap

import pytest

from bnlint.config import Config
from bnlint.engine import lint_bytes
from bnlint.specs import load_specs

from conftest import ROOT, run_cli

LIMIT = 120
FLAVOUR_PREFIX = "[Keras 3] "  # added by the rules to findings that hold for one flavour

# Long but realistic values for every placeholder a spec uses (the longest the
# rules produce on the examples and seeds, or longer).
REALISTIC = {
    "callee": "self.discriminator",
    "cls": "ResidualBottleneckBlock",
    "holds": "if it holds BatchNormalization or Dropout (a model loaded at run time), they run in inference mode",
    "where": "in `forward()`, called from the GradientTape block at line 125 in cell 12",
    "effect": "batch statistics used, moving ones mutated",
    "value": "False",
    "line": "125 in cell 12",
    "builder": "tf.layers.batch_normalization",
    "arg": "is_training",
    "flag": "is_training",
    "mode": "inference",
    "call": "tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize",
    "bn_line": "125 in cell 12",
    "detail": "cannot decode as utf-8 at byte 123456: invalid continuation byte",
    # the wider family (BN1xx)
    "updates": "`self.bn_layer.updates`",
    "built": "in `models.resnet_ops`",
    "ema": "self.ewma_trainer",
    "fn": "conv_bn_relu_block",
    "func": "tf.compat.v1.nn.dropout",
    "function": "set_learning_phase",
    "method": "fit_generator",
    "differentiator": "value_and_grad",
    "param": "is_training",
    "layer": "BatchNormalization",
}


def _fields(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _variants():
    for code, spec in sorted(load_specs().items()):
        for variant in spec.messages:
            yield pytest.param(code, variant, id=f"{code}-{variant}")


@pytest.mark.parametrize("code, variant", list(_variants()))
def test_every_message_fits_in_120_characters(code, variant):
    spec = load_specs()[code]
    values = dict(REALISTIC)
    if code == "BN801":  # the runtime checker's own sentences (bnlint/runtime/verdict.py), longest values
        from bnlint.runtime.verdict import layer_message, train_op_message

        for text in (layer_message("`batch_normalization_12` (BatchNormalization)", True),
                     layer_message("`batch_normalization_12` (BatchNormalization)", False),
                     train_op_message("Adam/update_discriminator_weights")):
            assert len(text) <= LIMIT, f"{len(text)} characters: {text}"
        values["detail"] = layer_message("`bn1` (BatchNormalization)", True)
    assert _fields(spec.messages[variant]) <= set(values), "add the new placeholder to REALISTIC"
    message = (FLAVOUR_PREFIX if code in ("BN001", "BN002") else "") + spec.message(variant, **values)
    assert len(message) <= LIMIT, f"{len(message)} characters: {message}"
    if code.startswith("BN0"):  # says what to do
        assert re.search(r": (pass|add|use|call|build)\b", message), message
        assert _fields(spec.details.get(variant, "")) <= set(values)
        assert spec.detail(variant, **values), "the why goes to the detail"


def _example_findings():
    for spec in load_specs().values():
        for ex in spec.invalid:
            for keras in ("2", "3"):
                yield from lint_bytes(textwrap.dedent(ex.code).encode(), "x.py", Config(keras=keras, select=("ALL",)))
    for path in sorted((ROOT / "examples" / "buggy").glob("*.py")):
        yield from lint_bytes(path.read_bytes(), str(path), Config())
    # a variant no spec example shows
    yield from lint_bytes(textwrap.dedent("""\
        import tensorflow as tf
        class FrozenBatchNorm(tf.keras.layers.BatchNormalization):
            def call(self, x, training=None):
                return super().call(x)
        """).encode(), "x.py", Config())


def test_the_rules_messages_on_their_examples_fit_and_carry_a_detail():
    """The values the rules really produce (the invalid examples of every spec,
    Keras 2 and 3, and examples/buggy)."""
    found = [f for f in _example_findings() if f.code.startswith("BN0")]
    assert {f.code for f in found} == {"BN001", "BN002", "BN003", "BN011"}
    assert {(f.code, f.extra["variant"]) for f in found} == \
        {(c, v) for c, s in load_specs().items() if c.startswith("BN0") for v in s.messages}
    for f in found:
        assert len(f.message) <= LIMIT, f"{len(f.message)}: {f.message}"
        assert "\x00" not in f.message + f.extra["detail"] and f.extra["detail"].endswith(".")


def test_full_output_shows_the_detail_and_the_flavour(tmp_path):
    (tmp_path / "k3.py").write_text(textwrap.dedent("""\
        import keras
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.bn = keras.layers.BatchNormalization()
            def call(self, x):
                return self.bn(x)
        """))
    proc = run_cli("--no-cache", "--keras", "3", "--output-format", "full", "k3.py", cwd=tmp_path)
    text = proc.stdout.decode()
    # `[*]`: --fix would fix it (BN002's safe fix adds `training=None`).
    assert "k3.py:6:9: BN002 [*] [Keras 3] `Net.call()` has no `training` parameter" in text
    assert "  = note: `fit()` then never passes `training=True`, and its BatchNormalization stays" in text
    assert "  = note: holds for Keras 3" in text
    concise = run_cli("--no-cache", "--keras", "3", "k3.py", cwd=tmp_path).stdout.decode()
    assert "BatchNormalization" not in concise  # the which-layer part is full-only


def test_a_line_reference_in_the_detail_is_filled_in(tmp_path):
    """The BN002 leak names a line in its detail; the engine fills it as in messages."""
    code = textwrap.dedent(next(ex.code for ex in load_specs()["BN002"].invalid if "training=False" in ex.code
                                and "leak" in (ex.note or "")))
    (found,) = [f for f in lint_bytes(code.encode(), "x.py", Config(keras="3")) if f.extra["variant"] == "leak"]
    assert re.search(r"on line \d+ leaks", found.extra["detail"]), found.extra["detail"]


def test_the_assumed_import_note_goes_to_the_detail():
    """A file that uses `tf` and `layers` without importing them (an exported
    notebook cell) is read with the usual imports; that is said in the
    detail, and the one-line message stays within the limit."""
    code = textwrap.dedent("""\
        model = tf.keras.Sequential([layers.Dense(4), layers.BatchNormalization()])
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x))
        """)
    (found,) = lint_bytes(code.encode(), "x.py", Config())
    assert found.code == "BN001" and len(found.message) <= LIMIT, found.message
    assert "import" not in found.message
    assert found.extra["detail"] == (
        "It is called inside a GradientTape block, so its BatchNormalization runs in inference mode. "
        "The file never imports `layers` as `keras.layers`, `tf` as `tensorflow`: bnlint read them as "
        "the usual imports.")
