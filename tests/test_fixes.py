"""Autofix: every INVALID spec example's fixed output, layout cases, the
no-byte-outside-the-span property, and `--fix` / `--diff` through the CLI
(in this process: conftest.run_cli)."""

import os
import re
import shutil
import stat
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.config import Config
from bnlint.engine import lint_text
from bnlint.finding import Edit, Fix
from bnlint.fixes.apply import choose, splice
from bnlint.fixes.command import fix_text
from bnlint.fixes.edits import minimal_edit
from bnlint.specs import load_specs

from conftest import ROOT

KERAS3 = Config(keras="3", select=("ALL",))  # every rule, the ones off by default too
SPECS = load_specs()
CASES = [(code, ex) for code, spec in SPECS.items() if code.startswith("BN0") for ex in spec.invalid]


def slug(note: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", note.lower()).strip("_")


def fixed(code: str, unsafe: bool = True, config: Config = KERAS3):
    return fix_text(textwrap.dedent(code), "example.py", config, unsafe=unsafe)


def fix_of(code: str, rule: str, config: Config = KERAS3) -> Fix:
    [finding] = [f for f in lint_text(textwrap.dedent(code), "example.py", config) if f.code == rule]
    assert finding.fix is not None, finding.message
    return finding.fix


# -- the spec examples --------------------------------------------------------
@pytest.mark.parametrize("code,example", CASES, ids=[f"{c}-{slug(e.note)}" for c, e in CASES])
def test_invalid_example_fix(code, example):
    """The spec's `fixed:` is the source after every fix (safe and unsafe);
    an example whose findings have a fix must give it, one without none."""
    config = KERAS3 if SPECS[code].default else Config(keras="3", extend_select=(code,))  # BN011: off by default
    fixable = any(f.fix is not None for f in lint_text(textwrap.dedent(example.code), "example.py", config))
    if not fixable:
        assert example.fixed is None, "no finding of this example has a fix: drop `fixed:`"
        return
    assert example.fixed is not None, "a fixable INVALID example gives its fixed source (`fixed:`)"
    out = fixed(example.code, config=config)
    assert out.fixed >= 1 and not out.broken
    cst.parse_module(out.text)
    assert [f for f in out.findings if f.code == code] == [], "the fixed output still has the finding"
    again = fix_text(out.text, "example.py", config, unsafe=True)
    assert again.text == out.text and again.fixed == 0, "not idempotent"
    assert out.text == example.fixed


# -- BN001 --------------------------------------------------------------------
TAPE = """\
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
with tf.GradientTape() as tape:
    y = {call}
g = tape.gradient(y, model.trainable_variables)
"""


@pytest.mark.parametrize("call,want", [
    ("model(x)", "model(x, training=True)"),
    ("model(x,)", "model(x, training=True,)"),
    ("model(x,mask=m)", "model(x,mask=m,training=True)"),
    ("model(\n        x,\n        mask=m,\n    )", "model(\n        x,\n        mask=m,\n        training=True,\n    )"),
    ("model(x,\n          mask=m)", "model(x,\n          mask=m,\n          training=True)"),
    ("model(\n        x  # the batch\n    )", "model(\n        x,  # the batch\n        training=True\n    )"),
    ("model(\n        x,  # the batch\n        # more\n    )",
     "model(\n        x,  # the batch\n        training=True,\n        # more\n    )"),
    ("model(x,  # the batch\n    )", "model(x, training=True,  # the batch\n    )"),
    ("model(*xs)", "model(*xs, training=True)"),
    ("model(x, training=None)", "model(x, training=True)"),
    ("model(x, training = None)", "model(x, training = True)"),
])
def test_bn001_layout(call, want):
    out = fixed(TAPE.format(call=call))
    assert out.text == TAPE.format(call=want)


def test_bn001_safe_in_tape_unsafe_in_helper_and_direct_call():
    assert fix_of(TAPE.format(call="model(x)"), "BN001").applicability == "safe"
    assert fix_of(TAPE.format(call="model.call(x)"), "BN001").applicability == "unsafe"
    helper = """\
    import tensorflow as tf
    model = tf.keras.Sequential([tf.keras.layers.Dropout(0.5)])
    def forward(x):
        return model(x)
    with tf.GradientTape() as tape:
        y = forward(x)
    g = tape.gradient(y, model.trainable_variables)
    """
    assert fix_of(helper, "BN001").applicability == "unsafe"
    assert fixed(helper, unsafe=False).fixed == 0


def test_crlf_and_tabs_are_kept():
    src = TAPE.format(call="model(\n\tx,\n)").replace("    ", "\t").replace("\n", "\r\n")
    out = fix_text(src, "example.py", KERAS3)
    assert out.text == src.replace("\tx,\r\n)", "\tx,\r\n\ttraining=True,\r\n)")
    assert "\r\n" in out.text and "\n" not in out.text.replace("\r\n", "")


# -- BN002 --------------------------------------------------------------------
NET = """\
import keras
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.bn = keras.layers.BatchNormalization()
    def call({params}):
        return self.bn(x)
"""


@pytest.mark.parametrize("params,want,safety", [
    ("self, x", "self, x, training=None", "safe"),
    ("self, x, mask=None", "self, x, mask=None, training=None", "safe"),
    ("self, x, **kwargs", "self, x, training=None, **kwargs", "unsafe"),
    ("self, x, *args", "self, x, *args, training=None", "safe"),
    ("\n        self,\n        x,  # input\n    ", "\n        self,\n        x,  # input\n        training=None,\n    ",
     "safe"),
])
def test_bn002_signature(params, want, safety):
    src = NET.format(params=params)
    assert fix_of(src, "BN002").applicability == safety
    assert fixed(src).text == NET.format(params=want)


def test_bn002_parameter_and_call_fixed_together():
    src = """\
    import keras
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.backbone = keras.applications.MobileNetV2(include_top=False)
            self.head_bn = keras.layers.BatchNormalization()
        def call(self, x):
            f = self.backbone(x, training=False)
            return self.head_bn(f)
    """
    out = fixed(src)
    assert "def call(self, x, training=None):" in out.text
    assert "self.head_bn(f, training=training)" in out.text
    assert out.text.count("training=None") == 1
    assert not [f for f in out.findings if f.code == "BN002"]


def test_bn002_name_already_used_is_unsafe():
    src = NET.format(params="self, x").replace("return self.bn(x)", "print(training)\n        return self.bn(x)")
    assert fix_of(src, "BN002").applicability == "unsafe"


# -- BN003 --------------------------------------------------------------------
TF1 = """\
{imports}
net = {tf}.layers.batch_normalization(x, training=is_training)
train_op = {tf}.train.AdamOptimizer().minimize(loss)
"""


@pytest.mark.parametrize("imports,tf,header", [
    ("import tensorflow.compat.v1 as tf", "tf",
     "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):"),
    ("import tensorflow as tf", "tf.compat.v1",
     "with tf.control_dependencies(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):"),
    ("import tensorflow as tf", "tf",
     "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):"),
    ("import tensorflow as tf\nv1 = tf.compat.v1", "v1",
     "with v1.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):"),
    ("from tensorflow.compat import v1", "v1",
     "with v1.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):"),
])
def test_bn003_uses_the_files_names(imports, tf, header):
    src = TF1.format(imports=imports, tf=tf)
    out = fixed(src, unsafe=False)
    last = f"train_op = {tf}.train.AdamOptimizer().minimize(loss)\n"
    assert out.text == src.replace(last, f"{header}\n    {last}")


def test_bn003_indentation_comments_and_tabs():
    src = ("import tensorflow.compat.v1 as tf\r\n"
           "def build(x, loss):\r\n"
           "\tnet = tf.layers.batch_normalization(x, training=is_training)\r\n"
           "\t# the train op\r\n"
           "\ttrain_op = tf.train.AdamOptimizer().minimize(\r\n"
           "\t\tloss)  # step\r\n"
           "\treturn train_op\r\n")
    out = fix_text(src, "example.py", KERAS3)
    assert out.text == src.replace(
        "\t# the train op\r\n\ttrain_op = tf.train.AdamOptimizer().minimize(\r\n\t\tloss)  # step\r\n",
        "\t# the train op\r\n\twith tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\r\n"
        "\t\ttrain_op = tf.train.AdamOptimizer().minimize(\r\n\t\t\tloss)  # step\r\n")


@pytest.mark.parametrize("src,why", [
    ("import tensorflow.compat.v1 as tf\n"
     "train_op = tf.train.AdamOptimizer().minimize(loss)\n"
     "net = tf.layers.batch_normalization(x, training=is_training)\n", "batch norm built after the train op"),
    ("import tensorflow.compat.v1 as tf\n"
     "net = tf.layers.batch_normalization(x, training=is_training)\n"
     "d_op = tf.train.AdamOptimizer().minimize(d_loss)\n"
     "g_op = tf.train.AdamOptimizer().minimize(g_loss)\n", "two train ops"),
    ("import tensorflow.compat.v1 as tf\n"
     "def model(x):\n    return tf.layers.batch_normalization(x, training=is_training)\n"
     "net = model(x)\n"
     "train_op = tf.train.AdamOptimizer().minimize(loss)\n", "batch norm built in another function"),
    ("import tensorflow.compat.v1 as tf\n"
     "net = tf.layers.batch_normalization(x, training=is_training)\n"
     "loss = f(net); train_op = tf.train.AdamOptimizer().minimize(loss)\n", "two statements on the line"),
])
def test_bn003_unsafe_where_the_fix_cannot_see_everything(src, why):
    assert all(f.fix.applicability == "unsafe" for f in lint_text(src, "x.py", KERAS3) if f.code == "BN003"), why
    assert fix_text(src, "x.py", KERAS3).text == src


@pytest.mark.parametrize("src", [
    "from tensorflow.contrib import slim\n"
    "net = slim.batch_norm(x, is_training=is_training)\n"
    "train_op = opt.minimize(loss)\n",  # no name for TensorFlow itself
    "import tensorflow.compat.v1 as tf\n"
    "net = tf.layers.batch_normalization(x, training=is_training)\n"
    "if ok: train_op = tf.train.AdamOptimizer().minimize(loss)\n",  # a one-line suite
    "import tensorflow.compat.v1 as tf\n"
    "net = tf.layers.batch_normalization(x, training=is_training)\n"
    "make = lambda: tf.train.AdamOptimizer().minimize(loss)\n",  # made later, elsewhere
])
def test_bn003_no_fix(src):
    found = [f for f in lint_text(src, "x.py", KERAS3) if f.code == "BN003"]
    assert found and all(f.fix is None for f in found)


# -- applying -----------------------------------------------------------------
def test_choose_skips_clashes_and_shares_identical_edits():
    sig = Edit(10, 10, ", training=None")
    a = Fix("a", "safe", (sig, Edit(30, 30, ", training=training")))
    b = Fix("b", "safe", (sig,))
    c = Fix("c", "safe", (Edit(29, 31, "x"),))
    taken, edits = choose([c, b, a])
    assert [f.message for f in taken] == ["a", "b"]
    assert edits == [sig, Edit(30, 30, ", training=training")]
    with pytest.raises(ValueError):
        splice("abc", [Edit(0, 2, ""), Edit(1, 3, "")])


def test_noqa_finding_is_not_fixed():
    src = TAPE.format(call="model(x)  # noqa: BN001")
    assert fix_text(src, "x.py", KERAS3).text == src


@given(st.text(alphabet="ab\r\n \t#()", max_size=40), st.text(alphabet="ab\r\n \t#()", max_size=40))
def test_minimal_edit_rebuilds_new_and_keeps_the_rest(old, new):
    e = minimal_edit(old, new)
    assert splice(old, [e]) == new
    assert old[:e.start] == new[:e.start]
    assert old[e.end:] == new[len(new) - (len(old) - e.end):]


# The property on real fixes: random layouts around a reported call; the
# fix's edits stay inside the call's own text and everything else is kept.
_ws = st.sampled_from(["", " ", "\n        ", "  # note\n        "])
_arg = st.sampled_from(["x", "mask", "*xs", "y[0]", "f(a, b)", "'s'", '"""doc\nline"""'])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=st.lists(st.tuples(_ws, _arg), max_size=3), trailing=st.booleans(), close=_ws,
       newline=st.sampled_from(["\n", "\r\n"]), indent=st.sampled_from(["    ", "\t", "  "]),
       value=st.sampled_from([None, "None"]))
def test_fix_touches_only_the_call(args, trailing, close, newline, indent, value):
    parts = [ws + a for ws, a in args]
    if value is not None:
        parts.append(" training=" + value)
    inner = ",".join(parts) + ("," if trailing and parts else "")
    call = f"model({inner}{close})"
    src = TAPE.format(call=call).replace("    ", indent).replace("\n", newline)
    if "*xs" in call and value is not None and call.index("*xs") > call.index("training"):
        return
    try:
        compile(src, "x.py", "exec")
    except SyntaxError:
        return
    [finding] = [f for f in lint_text(src, "x.py", KERAS3) if f.code == "BN001"]
    if sum(1 for _, a in args if not a.startswith("*")) >= 2:  # the second one is `training` to Keras
        if value is None:  # adding `training=` would pass it twice: no fix
            assert finding.fix is None
        return  # (with `training=None` too, the source itself passes it twice)
    start = src.index("model(", src.index("as tape"))
    end = start + len(call.replace("\n", newline).replace("    ", indent))
    new = splice(src, finding.fix.edits)
    for e in finding.fix.edits:
        assert start <= e.start <= e.end <= end
    grown = len(new) - len(src)
    assert new[:start] == src[:start] and new[end + grown:] == src[end:]
    compile(new, "x.py", "exec")
    assert not [f for f in lint_text(new, "x.py", KERAS3) if f.code == "BN001"]


# -- the command line ---------------------------------------------------------
BUGGY = TAPE.format(call="model(x)")
UNSAFE_ONLY = TAPE.format(call="model.call(x)")


def _write(path: Path, text: str, mode: int = 0o640) -> Path:
    path.write_bytes(text.encode())
    path.chmod(mode)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path


def test_diff_prints_and_writes_nothing(bnlint, tmp_path):
    f = _write(tmp_path / "train.py", BUGGY)
    r = bnlint("--diff", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    out = r.stdout.decode()
    assert out.startswith("--- train.py\n+++ train.py\n")
    assert "-    y = model(x)\n+    y = model(x, training=True)\n" in out
    assert f.read_text() == BUGGY and f.stat().st_mtime == 1_000_000_000
    clean = _write(tmp_path / "clean.py", BUGGY.replace("model(x)", "model(x, training=True)"))
    r = bnlint("--diff", "--no-cache", "clean.py", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, b"")
    assert clean.stat().st_mtime == 1_000_000_000


def test_fix_writes_keeps_mode_and_is_idempotent(bnlint, tmp_path):
    f = _write(tmp_path / "train.py", BUGGY.replace("\n", "\r\n"))
    r = bnlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"Fixed 1 finding in 1 file." in r.stdout and b"All checks passed!" in r.stdout
    assert f.read_bytes() == BUGGY.replace("model(x)", "model(x, training=True)").replace("\n", "\r\n").encode()
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".bnlint-tmp")]
    os.utime(f, (1_000_000_000, 1_000_000_000))
    r = bnlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 0 and f.stat().st_mtime == 1_000_000_000


def test_unsafe_fix_needs_the_flag_and_unfixed_findings_remain(bnlint, tmp_path):
    f = _write(tmp_path / "train.py", UNSAFE_ONLY)
    r = bnlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 1 and b"BN001" in r.stdout
    assert f.read_text() == UNSAFE_ONLY and f.stat().st_mtime == 1_000_000_000
    r = bnlint("--diff", "--unsafe-fixes", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 1 and b"+    y = model(x, training=True)" in r.stdout
    r = bnlint("--fix", "--unsafe-fixes", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 0 and "model(x, training=True)" in f.read_text()


def test_stdin_fix_prints_the_fixed_source(bnlint):
    r = bnlint("-", "--fix", "--stdin-filename", "t.py", stdin=BUGGY.encode())
    assert r.returncode == 0 and r.stdout.decode() == BUGGY.replace("model(x)", "model(x, training=True)")


def test_json_carries_the_fix(bnlint, tmp_path):
    import json

    _write(tmp_path / "train.py", BUGGY)
    r = bnlint("--output-format", "json", "--no-cache", "train.py", cwd=tmp_path)
    [record] = json.loads(r.stdout)
    assert record["fix"]["applicability"] == "safe"
    [edit] = record["fix"]["edits"]
    assert edit["text"] == ", training=True" and BUGGY[edit["start"] - 7:edit["start"]] == "model(x"


def test_fix_turns_the_buggy_examples_into_their_fixed_twins(bnlint, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for p in (tmp_path / "examples" / "fixed").iterdir():
        os.utime(p, (1_000_000_000, 1_000_000_000))
    r = bnlint("--fix", "--no-cache", "examples", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for buggy in (tmp_path / "examples" / "buggy").iterdir():
        assert buggy.read_bytes() == (ROOT / "examples" / "fixed" / buggy.name).read_bytes(), buggy.name
    assert all(p.stat().st_mtime == 1_000_000_000 for p in (tmp_path / "examples" / "fixed").iterdir())


def test_super_call_in_a_batch_norm_subclass():
    src = """\
    import tensorflow as tf
    class MyBN(tf.keras.layers.BatchNormalization):
        def call(self, x, training=None):
            return super().call(x)
    """
    fix = fix_of(src, "BN002")
    assert fix.applicability == "safe"
    assert "return super().call(x, training=training)" in fixed(src, unsafe=False).text


def test_notebooks_get_no_fix_yet(tmp_path):
    from bnlint.engine import lint_bytes
    import json

    cells = [BUGGY.splitlines(True)[:2], BUGGY.splitlines(True)[2:]]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                    for c in cells],
          "metadata": {"kernelspec": {"name": "python3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    findings = lint_bytes(json.dumps(nb).encode(), "nb.ipynb", KERAS3)
    assert [f.code for f in findings] == ["BN001"] and findings[0].fix is None


def test_write_atomic_refuses_a_file_changed_meanwhile(tmp_path):
    from bnlint.fixes.write import ChangedOnDisk, write_atomic

    f = tmp_path / "a.py"
    f.write_bytes(b"new content\n")
    with pytest.raises(ChangedOnDisk):
        write_atomic(str(f), b"fixed\n", expected=b"old content\n")
    assert f.read_bytes() == b"new content\n" and [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_encoding_bom_and_symlink_are_kept(bnlint, tmp_path):
    real = tmp_path / "real.py"
    real.write_bytes(b"\xef\xbb\xbf# -*- coding: utf-8 -*-\r\n" + BUGGY.replace("model(x)", "model(x)  # caf\xe9")
                     .replace("\n", "\r\n").encode("utf-8"))
    (tmp_path / "link.py").symlink_to(real)
    r = bnlint("--fix", "--no-cache", "link.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "link.py").is_symlink()
    data = real.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# -*-") and "model(x, training=True)  # caf\xe9\r\n".encode() in data


def test_fix_in_a_crlf_file_without_final_newline():
    """Regression: the top-level statement offsets assumed a one-character
    newline was dropped at the end of a file; with CRLF every fix was lost."""
    src = ("import tensorflow as tf\r\nnet = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\r\n"
           "with tf.GradientTape() as tape:\r\n    out = net(x)")
    findings = lint_text(src, "crlf.py", Config(keras="3"))
    assert [f.code for f in findings] == ["BN001"]
    fix = findings[0].fix
    assert fix is not None
    (edit,) = fix.edits
    assert src[:edit.start] + edit.text + src[edit.end:] == src[:-1] + ", training=True)"


def test_columns_and_fix_offsets_are_characters_after_non_ascii_text():
    """`ast` counts columns in UTF-8 bytes; findings and edits count characters."""
    src = ("import tensorflow as tf\nnet = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\n"
           "with tf.GradientTape() as tape:\n    é, ü = 'ñññ', net(x)\n")
    [finding] = lint_text(src, "utf8.py", KERAS3)
    line = src.splitlines()[3]
    assert (finding.line, finding.column) == (4, line.index("net(x)") + 1)
    assert finding.end_column == line.index("net(x)") + len("net(x)") + 1
    (edit,) = finding.fix.edits
    assert src[:edit.start] + edit.text + src[edit.end:] == src.replace("net(x)", "net(x, training=True)")
