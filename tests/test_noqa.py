"""`# noqa` suppression, flake8 semantics, on the reported line.

In-process through the engine for the many small cases, and through the CLI
once to show a suppressed file exits 0.
"""

import textwrap

import pytest

from bnlint.config import Config
from bnlint.noqa import filter_findings, is_silenced, noqa_map

from helpers import codes, found, lint

KERAS3 = Config(keras="3")

# Line 8 has a BN001 finding, line 13 a BN003 finding, unless silenced.
TEMPLATE = """\
import tensorflow as tf

net = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
opt = tf.keras.optimizers.SGD()

def step(batch):
    with tf.GradientTape() as tape:
        out = net(batch){bn001}
    return tape.gradient(out, net.trainable_variables)

v1 = tf.compat.v1
h = v1.layers.batch_normalization(v1.placeholder(tf.float32), training=is_training)
op = v1.train.AdamOptimizer().minimize(tf.reduce_sum(h)){bn003}
"""


def run(bn001: str = "", bn003: str = ""):
    return found(lint(TEMPLATE.format(bn001=bn001, bn003=bn003), KERAS3))


def test_baseline_has_both_findings():
    assert run() == {(8, "BN001"), (13, "BN003")}


@pytest.mark.parametrize("comment", [
    "  # noqa",
    "  # NOQA",
    "  #noqa",
    "  # noqa  -- the frozen teacher is intended",
])
def test_bare_noqa_silences_every_code_on_its_line(comment):
    assert run(bn001=comment) == {(13, "BN003")}


@pytest.mark.parametrize("comment", [
    "  # noqa: BN001",
    "  # noqa:BN001",
    "  # noqa: bn001",
    "  # noqa: BN001, BN003",
    "  # noqa: BN003,BN001",
    "  # noqa: BN002 BN001",
    "  # type: ignore  # noqa: BN001",
    "  # noqa: BN0",  # a prefix, as in flake8
])
def test_noqa_with_the_code_silences(comment):
    assert run(bn001=comment) == {(13, "BN003")}


@pytest.mark.parametrize("comment", [
    "  # noqa: BN002",
    "  # noqa: BN003",
    "  # noqa: E501",
    "  # noqa: BN0011",
    "  # noqa: BN1",
    "  # no qa",
    "  # nqa: BN001",
])
def test_noqa_with_another_code_does_not_silence(comment):
    assert run(bn001=comment) == {(8, "BN001"), (13, "BN003")}


def test_two_codes_silence_both_lines_each_on_its_own_line():
    assert run(bn001="  # noqa: BN001, BN003", bn003="  # noqa: BN001, BN003") == set()


def test_noqa_on_another_line_does_not_silence():
    source = TEMPLATE.format(bn001="", bn003="").replace(
        "    return tape.gradient", "    # noqa: BN001\n    return tape.gradient")
    # The comment line shifts BN003 down by one; BN001 stays on line 8.
    assert found(lint(source, KERAS3)) == {(8, "BN001"), (14, "BN003")}


def test_noqa_applies_to_the_reported_line_of_a_multiline_call():
    source = textwrap.dedent("""\
        import tensorflow as tf
        net = tf.keras.Sequential([tf.keras.layers.Dropout(0.2)])
        with tf.GradientTape() as tape:
            out = net(  {first}
                batch,
            )  {last}
    """)
    assert found(lint(source.format(first="", last=""), KERAS3)) == {(4, "BN001")}
    assert found(lint(source.format(first="# noqa: BN001", last=""), KERAS3)) == set()
    # flake8 semantics: a comment on another physical line is another line.
    assert found(lint(source.format(first="", last="# noqa: BN001"), KERAS3)) == {(4, "BN001")}


def test_noqa_map_parses_codes():
    src = "a = 1  # noqa\nb = 2  # noqa: BN001,BN003\nc = 3\nd = 4  # NoQA:bn002\n"
    assert noqa_map(src) == {1: None, 2: ("BN001", "BN003"), 4: ("BN002",)}
    m = noqa_map(src)
    assert is_silenced("BN002", 1, m)
    assert is_silenced("BN003", 2, m) and not is_silenced("BN002", 2, m)
    assert not is_silenced("BN001", 3, m)


def test_filter_findings_keeps_unsilenced():
    findings = lint(TEMPLATE.format(bn001="", bn003=""), KERAS3)
    source = TEMPLATE.format(bn001="  # noqa: BN003", bn003="  # noqa: BN003")
    assert codes(filter_findings(findings, source)) == ["BN001"]


def test_noqa_through_the_cli_exit_code(tmp_path, bnlint):
    target = tmp_path / "train.py"
    target.write_text(TEMPLATE.format(bn001="  # noqa: BN001", bn003="  # noqa"))
    result = bnlint("--no-cache", str(target))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    target.write_text(TEMPLATE.format(bn001="  # noqa: BN003", bn003="  # noqa"))
    result = bnlint("--no-cache", str(target))
    assert result.returncode == 1
    assert f"{target}:8:" in result.stdout.decode()


# -- file-level `# bnlint: noqa` and the --add-noqa edit -------------------------------
from bnlint.noqa import ALL, add_codes_to_line, add_noqa, file_exemption  # noqa: E402


@pytest.mark.parametrize("source,want", [
    ("# bnlint: noqa\nx = 1\n", ALL),
    ("x = 1\n# bnlint: noqa: BN001\n", ("BN001",)),
    ("# bnlint: noqa: BN001, bn003\n# bnlint: noqa: BN0\n", ("BN001", "BN003", "BN0")),
    ("   #bnlint:noqa:BN001 BN002\r\n", ("BN001", "BN002")),
    ("x = 1  # bnlint: noqa\n", ()),  # a trailing comment is not a file directive
    ("# bnlint: noqa because\n", ()),  # not a directive: words after it
    ("# noqa\n", ()),
    ("", ()),
])
def test_file_exemption(source, want):
    assert file_exemption(source) == want


@pytest.mark.parametrize("line,codes,want", [
    ("y = m(x)", ["BN001"], "y = m(x)  # noqa: BN001"),
    ("y = m(x)   ", ["BN001", "BN002"], "y = m(x)  # noqa: BN001, BN002"),
    ("y = m(x)  # noqa: E501", ["BN001"], "y = m(x)  # noqa: E501, BN001"),
    ("y = m(x)  # noqa: E501  # why", ["BN001"], "y = m(x)  # noqa: E501, BN001  # why"),
    ("y = m(x)  # noqa: BN001", ["BN001"], "y = m(x)  # noqa: BN001"),
    ("y = m(x)  # noqa", ["BN001"], "y = m(x)  # noqa"),
    ("y = m(x)  # a note", ["BN001"], "y = m(x)  # a note  # noqa: BN001"),
])
def test_add_codes_to_line(line, codes, want):
    assert add_codes_to_line(line, codes) == want


def test_add_noqa_keeps_every_byte_but_the_comments():
    class F:
        def __init__(self, code, line):
            self.code, self.line = code, line
    source = "a = m(x)\r\nb = '''\nz'''\rc = m(y) \\\n    + 1\n"
    new, changed = add_noqa(source, [F("BN001", 1), F("BN002", 1), F("BN001", 2), F("BN001", 4)])
    assert changed == 1
    assert new == source.replace("a = m(x)", "a = m(x)  # noqa: BN001, BN002", 1)


@pytest.mark.parametrize("line", [
    "# bnlint: noqa: " + "A1 " * 100_000 + "!",
    "# bnlint: noqa: A1" + " " * 300_000 + "!",
    "# bnlint: noqa: A1" + " ," * 100_000 + "!",
    "# bnlint: noqa" + " \t" * 100_000 + "x",
    "#" + " " * 100_000 + "bnlint" + " " * 100_000 + ":" + " " * 100_000 + "x",
])
def test_file_directive_parsing_is_linear(line):
    """Adversarial lines (an earlier single-pattern version backtracked for
    minutes on the second one); the timeout is a hang guard, not a timing."""
    import threading

    done = []
    worker = threading.Thread(target=lambda: done.append((file_exemption(line),
                                                          add_codes_to_line(line, ["BN001"]))))
    worker.daemon = True
    worker.start()
    worker.join(60)
    assert done, "file_exemption did not finish within 60 s"
