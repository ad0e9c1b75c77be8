"""A fix is checked before it is offered anywhere (JSON, --fix, --diff, the
editor): the edited statement parses, and no call gets an argument twice.
An invalid fix is dropped from its finding only; the finding stays, and
the file's other fixes still apply."""

import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.config import Config
from bnlint.engine import lint_text
from bnlint.finding import Edit, Finding, Fix
from bnlint.fixes.apply import splice
from bnlint.fixes.command import fix_text
from bnlint.fixes.validate import check_fix, validated

KERAS3 = Config(keras="3")
TAPE = """\
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
with tf.GradientTape() as tape:
    y = {call}
g = tape.gradient(y, model.trainable_variables)
"""


def bn001(src):
    return [f for f in lint_text(src, "x.py", KERAS3) if f.code == "BN001"]


@pytest.mark.parametrize("call,want", [
    ("model(x, None)", "model(x, training=True)"),          # the training slot, by position
    ("model(x, None,)", "model(x, training=True,)"),
    ("model(v for v in xs)", "model((v for v in xs), training=True)"),  # a bare generator
    ("model((v for v in xs))", "model((v for v in xs), training=True)"),
    ("model.call(v for v in xs)", "model((v for v in xs), training=True)"),
])
def test_bn001_fix_respects_the_training_slot_and_generators(call, want):
    src = TAPE.format(call=call)
    [finding] = bn001(src)
    assert finding.fix is not None
    new = splice(src, finding.fix.edits)
    assert new == TAPE.format(call=want)
    compile(new, "x.py", "exec")


@pytest.mark.parametrize("call", ["model(x, mask)", "model(x, None, None)", "model(x, y, z)"])
def test_no_fix_where_a_positional_may_be_training(call):
    src = TAPE.format(call=call)
    [finding] = bn001(src)  # the finding stays
    assert finding.fix is None


def test_an_invalid_fix_costs_only_itself(bnlint, tmp_path):
    src = TAPE.format(call="model(x, mask)") + "with tf.GradientTape() as t2:\n    z = model(x)\n"
    f = tmp_path / "train.py"
    f.write_text(src)
    r = bnlint("--output-format", "json", "--no-cache", "train.py", cwd=tmp_path)
    records = [rec for rec in json.loads(r.stdout) if rec["code"] == "BN001"]
    assert [rec["fix"] is None for rec in records] == [True, False]
    r = bnlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert f.read_text() == src.replace("z = model(x)", "z = model(x, training=True)")
    assert b"does not parse" not in r.stderr and r.returncode == 1  # the first finding is left


def _fix(src, old, new):
    start = src.index(old)
    return Fix("test", "safe", (Edit(start, start + len(old), new),))


def test_check_fix_rejects_what_breaks_and_accepts_the_rest():
    src = "def f(xs):\n    if xs:\n        return g(xs)\n    elif xs is None:\n        return h(1)\n"
    assert check_fix(_fix(src, "g(xs)", "g(v for v in xs, 1)"), src) is not None
    assert check_fix(_fix(src, "h(1)", "h(1"), src) is not None
    assert check_fix(_fix(src, "h(1)", "h(1, 2)"), src) is None  # inside an elif
    assert check_fix(_fix(src, "g(xs)", "g(xs, training=True)"), src) is None
    assert check_fix(_fix(src, "g(xs)", "g(xs, None, training=True)"), src) is not None
    assert check_fix(Fix("test", "safe", (Edit(3, 9, "a"), Edit(5, 6, "b"))), src) is not None
    assert check_fix(Fix("test", "safe", (Edit(0, len(src) + 1, ""),)), src) is not None
    assert validated(_fix(src, "h(1)", "h(1"), src) is None


@pytest.mark.parametrize("line", [
    "    s = 'caf\u00e9 \u20ac \U0001f600'; y = {call}",  # multi-byte text before the call on its line
    "    if ok: y = {call}",
    "    try:\n        pass\n    except E:\n        y = {call}",
    "    match v:\n        case 1:\n            y = {call}",
    "    ys = (\n        0,\n        {call},\n    )",
    "\ty = {call}",
])
def test_valid_fixes_in_awkward_places_are_kept(line):
    src = TAPE.replace("    y = {call}", line).format(call="model(x)")
    if "\t" in line:
        src = src.replace("\n    ", "\n\t")
    compile(src, "x.py", "exec")
    findings = bn001(src)
    assert findings and all(f.fix is not None for f in findings)
    for f in findings:
        compile(splice(src, f.fix.edits), "x.py", "exec")


_ARGS = st.sampled_from(["x", "None", "v for v in xs", "(v for v in xs)", "*xs", "mask=m", "**kw",
                         "training=None", "f(a, b)", "[1, 2]"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ARGS, max_size=4), st.booleans())
def test_every_offered_fix_compiles_and_passes_nothing_twice(args, direct):
    call = ("model.call(" if direct else "model(") + ", ".join(args) + ")"
    src = TAPE.format(call=call)
    try:
        compile(src, "x.py", "exec")
    except SyntaxError:
        return
    for f in bn001(src):
        if f.fix is None:
            continue
        new = splice(src, f.fix.edits)
        compile(new, "x.py", "exec")
        line = new.splitlines()[3]
        plain = [a for a in args if "=" not in a and not a.startswith("*")]
        assert line.count("training=") == 1
        if "training=None" not in args:  # else the source itself passes it twice
            assert len(plain) <= 1 or ("None" == plain[1] and len(plain) == 2), line
    out = fix_text(src, "x.py", KERAS3, unsafe=True)
    assert not out.broken
    compile(out.text, "x.py", "exec")


def test_dedented_example_with_decorators_and_classes():
    src = textwrap.dedent("""\
        import keras
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.bn = keras.layers.BatchNormalization()
            @property
            def x(self): return 1
            def call(self, x):
                return self.bn(x)
        """)
    [f] = [f for f in lint_text(src, "x.py", KERAS3) if f.code == "BN002"]
    assert f.fix is not None and check_fix(f.fix, src) is None


def test_a_pass_that_does_not_parse_keeps_the_fixes_that_do(monkeypatch):
    """Fixes that each pass validate but break the code together (none known
    today; a guard for the kind): --fix keeps the ones that still parse
    instead of dropping every fix in the file."""
    import bnlint.fixes.command as command

    src = "a = f(x)\nb = g(y)\n"
    good = Fix("good", "safe", (Edit(src.index("x)") + 1, src.index("x)") + 1, ", 1"),))
    bad = Fix("bad", "safe", (Edit(src.index("y)") + 1, src.index("y)") + 1, ", ("),))
    lints = iter([[Finding("BN001", "m", "x.py", 1, 1, 1, 2, fix=good),
                   Finding("BN001", "m", "x.py", 2, 1, 2, 2, fix=bad)]])
    monkeypatch.setattr(command, "_lint", lambda text, filename, config: next(lints, []))
    out = fix_text(src, "x.py", KERAS3)
    assert out.text == "a = f(x, 1)\nb = g(y)\n" and out.fixed == 1 and out.broken
