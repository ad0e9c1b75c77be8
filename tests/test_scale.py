"""Work linear in findings and cells; valid Python that CPython compiles is
linted (issue 14, items 3 and 5). The time bounds are hang guards, not
timing assertions."""

import json

import pytest

from bnlint.config import Config
from bnlint.fixes.command import fix_text

from fuzz_harness import lint_within

KERAS3 = Config(keras="3")
HEAD = ("import tensorflow as tf\n"
        "model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\n"
        "with tf.GradientTape() as tape:\n")


def test_a_thousand_findings_in_one_tape_each_get_their_fix():
    """Each fix used to re-render the whole `with` statement: 54 s."""
    src = HEAD + "".join(f"    y{i} = model(x)\n" for i in range(1000))
    findings, _ = lint_within(src.encode(), 300, KERAS3, "many.py")
    assert [f.line for f in findings] == list(range(4, 1004))
    assert all(f.fix is not None and f.fix.applicability == "safe" for f in findings)
    out = fix_text(src, "many.py", KERAS3)
    assert out.text.count("model(x, training=True)") == 1000
    assert out.findings == []


def _notebook(cells):
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": [c], "outputs": [],
                                  "execution_count": None} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_three_thousand_broken_cells():
    """Each broken cell is named once, with its own error; the rest is still
    linted (used to be one re-lint per broken cell, and from the 201st a
    false 'too many nested parentheses')."""
    data = _notebook([HEAD + "    y = model(x)\n"] + ["x = (\n"] * 3000)
    findings, _ = lint_within(data, 300, KERAS3, "nb.ipynb")
    broken = [f for f in findings if f.code == "BN902"]
    assert len(broken) == 3000
    assert {f.cell for f in broken} == set(range(2, 3002))
    assert all("never closed" in f.message for f in broken)
    assert [(f.cell, f.line, f.code) for f in findings if f.code != "BN902"] == [(1, 4, "BN001")]


@pytest.mark.parametrize("kind,body", [
    ("implicit concatenation", "s = (" + " ".join('"a"' for _ in range(400)) + ")\n"),
    ("plus terms", "s = " + " + ".join("a" for _ in range(400)) + "\n"),
    ("elifs", "if a == 0:\n    pass\n" + "".join(f"elif a == {i}:\n    pass\n" for i in range(1, 400))),
])
def test_long_valid_constructs_are_linted(kind, body):
    """400 string pieces, `+` terms or `elif`s are valid Python; the file's
    real finding used to be lost to a parser recursion limit."""
    src = body + HEAD + "    y = model(x)\n"
    findings, _ = lint_within(src.encode(), 120, KERAS3, "long.py")
    assert [(f.code, f.line) for f in findings] == [("BN001", src.count("\n"))]
