"""No control character from a linted repository reaches a terminal: file
names, messages and source lines are escaped (report/escape.py) in every
format read on a terminal (concise, full, github) and in --fix's stderr."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlint.finding import Finding
from bnlint.report import FORMATS
from bnlint.report.escape import printable

TERMINAL = ("concise", "full", "github")
ESC = "\x1b]0;pwned\x07\x1b[2J\u202e\r\n\x85"
BAD = set("\x00\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\u202e\u2066\u2028")


@pytest.mark.parametrize("fmt", TERMINAL)
@settings(max_examples=100, deadline=None)
@given(message=st.text(max_size=30), filename=st.text(min_size=1, max_size=20))
def test_no_control_character_in_terminal_formats(fmt, message, filename):
    f = Finding("BN001", message, filename, 1, 1, 1, 2, name="tape-call-without-training")
    out = FORMATS[fmt]([f], {filename: "y = model(x)" + message + "\n"})
    body = out[:-1] if fmt != "full" else out.rstrip("\n")
    assert not BAD & set(body)
    assert all(c == "\n" or c >= " " for c in body if c not in "\x7f\x85")


def test_printable_escapes_and_keeps_the_rest():
    assert printable("a\x1b[31mb\tc\u202ed\\e") == "a\\x1b[31mb\\x09c\\u202ed\\e"
    assert printable("caf\u00e9 \u20ac \U0001f600") == "caf\u00e9 \u20ac \U0001f600"


def test_full_caret_stays_under_the_span_after_escaping():
    src = "x = '\x1b[2J'; y = model(x)\n"
    col = src.index("model") + 1
    f = Finding("BN001", "m", "a.py", 1, col, 1, col + len("model(x)"), name="n")
    lines = FORMATS["full"]([f], {"a.py": src}).splitlines()
    code, caret = lines[1], lines[2]
    assert "\x1b" not in code
    start = caret.index("^")
    assert code[start:start + len("model(x)")] == "model(x)" and caret.count("^") == len("model(x)")


def test_cli_escapes_a_hostile_file_name_and_source(bnlint, tmp_path):
    name = "train\x1b[2J.py"
    src = ("import tensorflow as tf\n"
           "model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\n"
           "with tf.GradientTape() as tape:\n"
           "    y = model(x)  # \x1b]0;pwned\x07\n")
    (tmp_path / name).write_text(src)
    for fmt in TERMINAL:
        r = bnlint("--no-cache", "--output-format", fmt, ".", cwd=tmp_path)
        assert r.returncode == 1 and b"BN001" in r.stdout
        assert b"\x1b" not in r.stdout and b"\\x1b" in r.stdout, fmt
    os.chmod(tmp_path / name, 0o444)
    r = bnlint("--no-cache", "--fix", ".", cwd=tmp_path)
    assert b"not fixed" in r.stderr and b"\x1b" not in r.stderr and b"\x1b" not in r.stdout
    r = bnlint("-", "--fix", "--stdin-filename", name, stdin=src.replace("model(x)", "model.call(x)").encode())
    assert b"BN001" in r.stderr and b"\x1b" not in r.stderr  # (stdout is the source, byte for byte)
