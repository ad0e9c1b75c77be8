"""The wider rule family (BN101-BN111): fixes against the expected source in
each spec, each rule's docs, and the kinds of input behind each rule's
precision (one finding per bug, no finding where the value is not trained),
with hang guards on the byte patterns and the value flow."""

import re
import signal
import textwrap
from contextlib import contextmanager

import pytest
import yaml

from bnlint.config import Config
from bnlint.fixes.command import fix_text
from bnlint.resources import rules_dir
from bnlint.rules import RULES
from bnlint.specs import load_specs

from helpers import found, lint

KERAS3 = Config(keras="3", select=("ALL",))  # every rule, the ones off by default too
FAMILY = sorted(code for code in RULES if code.startswith("BN1"))


def _raw_examples():
    for code in FAMILY:
        with open(rules_dir() / f"{code}.yaml", encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        for example in data.get("invalid") or []:
            yield code, example


_MARK = re.compile(r"[ \t]*#\s*expect:[^\n]*")


def unmarked(text: str) -> str:
    """The source without its `# expect:` marks (the spec's `fixed:` is
    written without them; the fix keeps comments)."""
    return _MARK.sub("", text)


@contextmanager
def hang_guard(seconds: int):
    """Fail instead of hanging (a generous bound, not a timing assertion)."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


FIXED = [(code, ex) for code, ex in _raw_examples() if "fixed" in ex]
UNFIXED = [(code, ex) for code, ex in _raw_examples() if "fixed" not in ex]


def test_family_is_registered_with_specs():
    specs = load_specs()
    assert FAMILY == ["BN101", "BN102", "BN103", "BN104", "BN105", "BN106", "BN107", "BN108", "BN109",
                      "BN110", "BN111", "BN112", "BN113"]
    for code in FAMILY:
        spec = specs[code]
        for key in ("what", "why", "example", "use_instead", "limits"):
            assert spec.docs.get(key), f"{code} lacks docs.{key}"
        assert spec.fix_safety and len(spec.valid) >= 3 and len(spec.invalid) >= 3
        text = spec.render_docs()
        assert f"({code})" in text and "## Known problems" in text and "## Fix safety" in text


@pytest.mark.parametrize("code,example", FIXED, ids=[f"{c}-{e['note']}" for c, e in FIXED])
def test_fix_gives_the_expected_source(code, example):
    source = textwrap.dedent(example["code"])
    out = fix_text(source, "example.py", KERAS3, unsafe=True)
    want = textwrap.dedent(example["fixed"])
    assert unmarked(out.text) == want
    assert [f for f in out.findings if f.code == code] == []
    again = fix_text(out.text, "example.py", KERAS3, unsafe=True)
    assert again.text == out.text and again.fixed == 0


@pytest.mark.parametrize("code,example", UNFIXED, ids=[f"{c}-{e['note']}" for c, e in UNFIXED])
def test_no_fix_where_the_spec_gives_none(code, example):
    findings = [f for f in lint(example["code"], KERAS3) if f.code == code]
    assert findings and all(f.fix is None for f in findings)


@pytest.mark.parametrize("code,example", list(_raw_examples()), ids=[f"{c}-{e['note']}" for c, e in _raw_examples()])
def test_messages_are_one_short_line(code, example):
    for f in lint(example["code"], KERAS3):
        if f.code == code:
            assert "\n" not in f.message and len(f.message) <= 120, f.message
            assert f.extra["detail"].endswith("."), f.extra["detail"]


def test_bn111_safe_fix_applies_without_unsafe_fixes():
    example = dict(FIXED)["BN111"]
    out = fix_text(textwrap.dedent(example["code"]), "example.py", KERAS3, unsafe=False)
    assert unmarked(out.text) == textwrap.dedent(example["fixed"])


def test_bn108_fix_is_unsafe_only():
    example = dict(FIXED)["BN108"]
    source = textwrap.dedent(example["code"])
    assert fix_text(source, "example.py", KERAS3, unsafe=False).text == source


# -- kinds ------------------------------------------------------------------------
def test_bn101_one_finding_per_idiom_whatever_the_number_of_layers():
    code = """
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        x = tf.placeholder(tf.float32, [None, 4])
        h = tf.keras.layers.BatchNormalization()(x, training=True)
        h = tf.keras.layers.BatchNormalization()(h, training=True)
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.AdamOptimizer().minimize(tf.reduce_mean(h))
    """
    assert found(lint(code, KERAS3)) == {(7, "BN101")}


def test_bn102_no_fix_when_the_list_serves_the_gradients_too():
    code = """
        import tensorflow.compat.v1 as tf
        h = tf.layers.batch_normalization(x, training=is_training)
        params = tf.trainable_variables()
        grads = tf.gradients(loss, params)
        saver = tf.train.Saver(var_list=params)
    """
    [finding] = [f for f in lint(code, KERAS3) if f.code == "BN102"]
    assert finding.line == 6 and finding.fix is None


def test_bn105_nested_function_and_early_exit():
    code = """
        import tensorflow as tf
        class Head(tf.keras.layers.Layer):
            def call(self, x, training=None):
                def drop(t):
                    return tf.nn.dropout(t, 0.5)
                return drop(x)
        class Gated(tf.keras.layers.Layer):
            def call(self, x, training=None):
                if training is False:
                    raise ValueError("inference")
                return tf.nn.dropout(x, 0.5)
    """
    assert found(lint(code, KERAS3)) == {(6, "BN105")}


def test_bn109_evaluation_graph_of_a_model_fn_is_not_reported():
    code = """
        import tensorflow as tf
        def model_fn(features, labels, mode):
            logits = tf.keras.layers.Dropout(0.5)(features, training=mode == tf.estimator.ModeKeys.TRAIN)
            loss = tf.reduce_mean(logits)
            probs = tf.keras.layers.Dropout(0.5)(features)
            train_op = tf.compat.v1.train.AdamOptimizer().minimize(loss)
            return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, predictions=probs)
        est = tf.estimator.Estimator(model_fn)
    """
    assert found(lint(code, KERAS3)) == set()


def test_bn110_two_functions_with_the_same_local_names_stay_apart():
    code = """
        import tensorflow.compat.v1 as tf
        def features(x):
            h = tf.layers.batch_normalization(x)
            return h
        def train(x):
            h = tf.layers.dense(x, 1)
            return tf.train.AdamOptimizer().minimize(tf.reduce_mean(h))
        feats = features(images)
    """
    assert found(lint(code, KERAS3)) == set()


def test_bn107_flag_fed_through_a_variable_is_not_reported():
    code = """
        import tensorflow.compat.v1 as tf
        is_training = tf.placeholder_with_default(True, shape=())
        h = tf.layers.batch_normalization(x, training=is_training)
        for phase in (True, False):
            out = sess.run(h, feed_dict={x: data, is_training: phase})
    """
    assert found(lint(code, KERAS3)) == set()


def test_bn106_keras2_without_graph_mode_is_quiet_and_keras3_is_not():
    code = """
        from tensorflow.keras import backend as K
        K.set_learning_phase(1)
        preds = model.predict(x)
    """
    assert found(lint(code, KERAS3)) == {(3, "BN106")}
    assert found(lint(code, Config(keras="2"))) == set()


def test_bn103_frozen_through_a_subscript_turns_the_rule_off():
    code = """
        import keras
        base = keras.applications.MobileNetV2(include_top=False, weights=None)
        inputs = keras.Input((96, 96, 3))
        model = keras.Model(inputs, base(inputs, training=False))
        model.layers[1].trainable = False
        model.fit(ds)
    """
    assert found(lint(code, KERAS3)) == set()


# -- hang guards (generous timeouts, never timing assertions) --------------------------
@pytest.mark.parametrize("filler", [" ", "\t", "training", "= ", "run", "def call "])
def test_byte_patterns_stay_linear(filler):
    from bnlint.api import load_api
    from bnlint.prefilter import build_prefilter

    data = ("def call(self):\n    pass\n# " + filler * 40000 + "x\ntraining" + " " * 40000 + "=").encode()
    with hang_guard(60):
        build_prefilter(load_api()).stage1(data, set(RULES))


def test_value_flow_on_a_long_chain_terminates():
    lines = ["import tensorflow.compat.v1 as tf", "tf.disable_eager_execution()",
             "h0 = tf.layers.batch_normalization(x)"]
    lines += [f"h{i} = tf.nn.relu(h{i - 1}) + h{max(i - 7, 0)}" for i in range(1, 1500)]
    lines += ["train_op = tf.train.AdamOptimizer().minimize(tf.reduce_mean(h1499))"]
    with hang_guard(120):
        assert found(lint("\n".join(lines) + "\n", KERAS3)) == {(3, "BN110")}


def test_bn102_batch_norm_in_the_users_other_modules(tmp_path):
    from bnlint.engine import lint_bytes

    (tmp_path / "ops.py").write_text(textwrap.dedent("""
        import tensorflow as tf
        def bn(x, train):
            return tf.contrib.layers.batch_norm(x, is_training=train)
    """))
    (tmp_path / "model.py").write_text(textwrap.dedent("""
        from ops import bn
        class Net:
            def __init__(self, x, train):
                self.out = bn(x, train)
    """))
    train = textwrap.dedent("""
        import tensorflow as tf
        from model import Net
        net = Net(images, True)
        saver = tf.train.Saver(tf.trainable_variables(), max_to_keep=3)
    """)
    path = tmp_path / "train.py"
    path.write_text(train)
    [finding] = [f for f in lint_bytes(train.encode(), str(path), KERAS3) if f.code == "BN102"]
    assert finding.line == 5 and "built in `ops`" in finding.extra["detail"]  # where it is built
    (tmp_path / "model.py").write_text("class Net:\n    pass\n")
    (tmp_path / "other.py").write_text("")
    path2 = tmp_path / "train2.py"
    path2.write_text(train)
    assert [f for f in lint_bytes(train.encode(), str(path2), KERAS3) if f.code == "BN102"] == []


# -- BN001's training code: Keras 3 on PyTorch ---------------------------------------
TORCH_LOOP = """
    import torch
    import keras
    model = keras.Sequential([keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    optimizer = torch.optim.Adam(model.parameters())
    for x, y in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model({args}), y)
        loss.backward()
        optimizer.step()
"""


def test_bn001_keras_model_in_a_torch_training_loop():
    [finding] = lint(TORCH_LOOP.format(args="x"), KERAS3)
    assert (finding.line, finding.code) == (8, "BN001") and "backward" in finding.extra["detail"]
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    assert lint(TORCH_LOOP.format(args="x, training=True"), KERAS3) == []


def test_bn001_torch_loop_evaluation_and_torch_modules_are_not_training():
    no_grad = """
        import torch
        import keras
        model = keras.Sequential([keras.layers.BatchNormalization()])
        for x, y in loader:
            loss = loss_fn(model(x, training=True), y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                val = model(x_val)
    """
    assert lint(no_grad, KERAS3) == []
    torch_only = """
        import torch
        net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
        for x, y in loader:
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
    """
    assert lint(torch_only, KERAS3) == []
    no_step = TORCH_LOOP.format(args="x").replace("optimizer.step()", "pass")
    assert lint(no_step, KERAS3) == []


def test_bn001_torch_loop_with_a_keras_optimizer_apply():
    """keras.io's "training loop from scratch in PyTorch" shape: `loss.backward()`
    then a Keras optimizer's `apply(gradients, weights)` (no `.step()`; found
    by planting it, newcomer session)."""
    guide = """
        import torch
        import keras
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
        optimizer = keras.optimizers.Adam(1e-3)
        for inputs, targets in loader:
            loss = loss_fn(targets, model(inputs))
            model.zero_grad()
            loss.backward()
            gradients = [v.value.grad for v in model.trainable_weights]
            with torch.no_grad():
                optimizer.apply(gradients, model.trainable_weights)
    """
    assert [(f.line, f.code) for f in lint(guide, KERAS3)] == [(7, "BN001")]
    assert lint(guide.replace("model(inputs)", "model(inputs, training=True)"), KERAS3) == []
    # `apply` without a `.backward()` in the loop (pandas, an EMA) is not a training loop
    assert lint(guide.replace("loss.backward()", "pass"), KERAS3) == []


def test_bn102_an_unused_batch_norm_helper_in_an_imported_module_is_not_batch_norm(tmp_path):
    from bnlint.engine import lint_bytes

    (tmp_path / "modules.py").write_text(textwrap.dedent("""
        import tensorflow as tf
        def conv2d(x, f):
            return tf.layers.conv2d(x, f, 3)
        def batch_norm(x, is_train=True):
            return tf.layers.batch_normalization(x, training=is_train)
    """))
    train = textwrap.dedent("""
        import tensorflow as tf
        import modules as t
        h = t.conv2d(images, 16)
        saver = tf.train.Saver(var_list=tf.trainable_variables())
    """)
    path = tmp_path / "pggan.py"
    path.write_text(train)
    assert [f for f in lint_bytes(train.encode(), str(path), KERAS3) if f.code == "BN102"] == []
