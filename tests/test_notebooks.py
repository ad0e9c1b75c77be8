"""Notebooks: code cells linted as one program, findings reported per cell."""

import json
import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlint.config import Config
from bnlint.engine import lint_bytes
from bnlint.files import discover
from bnlint.notebook import python_lines

from conftest import run_cli

KERAS3 = Config(keras="3")


def notebook(*cells, metadata=None, as_string=False):
    """cells: ("code" | "markdown", text); sources as nbformat writes them, a list of lines.
    A cell ("code", text, "as is") keeps its indentation."""
    out = []
    for kind, text, *as_is in cells:
        text = text if as_is else textwrap.dedent(text)
        source = text if as_string else text.splitlines(True)
        cell = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    doc = {"cells": out, "metadata": metadata if metadata is not None else {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1, ensure_ascii=False)


def lint_nb(text, name="nb.ipynb"):
    return lint_bytes(text.encode("utf-8"), name, KERAS3)


def where(findings):
    return [(f.code, f.cell, f.line, f.column) for f in findings]


IMPORTS = ("code", "import numpy as np\nimport tensorflow as tf\n")
BUILD = ("code", """\
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(4),
        tf.keras.layers.BatchNormalization(),
    ])
    """)
TRAIN = ("code", """\
    for step in range(3):
        with tf.GradientTape() as tape:
            out = model(x)
        grads = tape.gradient(out, model.trainable_variables)
    """)


def test_model_built_in_one_cell_trained_in_another():
    text = notebook(("markdown", "# Training\n"), IMPORTS, BUILD, ("markdown", "now train\n"), TRAIN)
    assert where(lint_nb(text)) == [("BN001", 5, 3, 15)]


def test_a_cell_alone_is_not_enough():
    """The finding needs the model from another cell: proof the cells are one program."""
    with_plain_model = notebook(IMPORTS, ("code", "model = tf.keras.Sequential([tf.keras.layers.Dense(4)])\n"), TRAIN)
    assert lint_nb(with_plain_model) == []
    assert where(lint_nb(notebook(IMPORTS, BUILD, TRAIN))) == [("BN001", 3, 3, 15)]


def test_cli_text_and_json_name_the_cell(tmp_path):
    (tmp_path / "nb.ipynb").write_text(notebook(IMPORTS, BUILD, TRAIN))
    proc = run_cli("--no-cache", "--keras", "3", "nb.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("nb.ipynb:cell 3:3:15: BN001 ")
    proc = run_cli("--no-cache", "--keras", "3", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    (rec,) = json.loads(proc.stdout)
    assert (rec["cell"], rec["line"], rec["column"], rec["end_line"], rec["end_column"]) == (3, 3, 15, 3, 23)
    proc = run_cli("--no-cache", "--keras", "3", "--output-format", "full", "nb.ipynb", cwd=tmp_path)
    out = proc.stdout.decode()
    assert "    3 |         out = model(x)" in out and "^^^^^^^^" in out  # the cell's line, not the JSON's


MAGICS = ("code", """\
    %matplotlib inline
    !pip install -q tensorflow
    files = !ls data/
    %time x = np.zeros((8, 4))
    model?
    ??model
    for f in files:
        !echo $f \\
            continued
    print("done")  # what?
    """)


def test_magics_and_shell_escapes_are_skipped():
    text = notebook(IMPORTS, BUILD, MAGICS, TRAIN)
    assert where(lint_nb(text)) == [("BN001", 4, 3, 15)]


def test_python_cell_magics_are_linted_others_skipped():
    timed = ("code", "%%time\n" + textwrap.dedent(TRAIN[1]))
    bash = ("code", "%%bash\nfor f in *; do echo $f; done\n")
    writefile = ("code", "%%writefile train.py\nwith tf.GradientTape() as tape:\n    out = model(x)\n")
    assert where(lint_nb(notebook(IMPORTS, BUILD, bash, writefile, timed))) == [("BN001", 5, 4, 15)]


def test_ipython_lines_become_pass_but_strings_are_left_alone():
    source = 'doc = """\n!not a shell line\n%not a magic\n"""\nx = (1 +\n     2)\n!ls\n    %time f()\n'
    assert python_lines(source) == [
        'doc = """', "!not a shell line", "%not a magic", '"""', "x = (1 +", "     2)", "pass", "    pass"]
    assert python_lines("%%html\n<b>hi</b>\n") is None
    # U+2028 is a line break to str.splitlines but not to Python
    assert python_lines('s = "a\u2028b"\r\n!ls\r\n') == ['s = "a\u2028b"', "pass"]


def test_an_indented_cell_runs_dedented_as_in_ipython():
    train = ("code", "  with tf.GradientTape() as tape:\n      out = model(x)\n", "as is")
    (f,) = lint_nb(notebook(IMPORTS, BUILD, ("code", "  x = tf.reshape(x, [2, 4])\n", "as is"), train))
    assert where([f]) == [("BN001", 4, 2, 13)]  # the column in the cell as written
    assert (f.end_line, f.end_column) == (2, 21)


def test_noqa_in_a_cell():
    train = ("code", "with tf.GradientTape() as tape:\n    out = model(x)  # noqa: BN001\n")
    assert lint_nb(notebook(IMPORTS, BUILD, train)) == []


def test_a_cell_with_a_syntax_error_does_not_hide_the_others():
    broken = ("code", "def oops(:\n    pass\n")
    found = [(code, cell, line) for code, cell, line, _ in where(lint_nb(notebook(IMPORTS, BUILD, broken, TRAIN)))]
    assert found == [("BN902", 3, 1), ("BN001", 4, 3)]


def test_single_string_sources_and_nbformat_3():
    assert where(lint_nb(notebook(IMPORTS, BUILD, TRAIN, as_string=True))) == [("BN001", 3, 3, 15)]
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "language": "python", "input": IMPORTS[1].splitlines(True), "outputs": []},
        {"cell_type": "code", "language": "python", "input": textwrap.dedent(BUILD[1]), "outputs": []},
        {"cell_type": "code", "language": "python", "input": textwrap.dedent(TRAIN[1]), "outputs": []},
    ]}]}
    assert where(lint_nb(json.dumps(v3))) == [("BN001", 3, 3, 15)]


def test_other_languages_are_skipped():
    meta = {"kernelspec": {"name": "ir", "language": "R"}, "language_info": {"name": "R"}}
    assert lint_nb(notebook(IMPORTS, BUILD, TRAIN, metadata=meta)) == []


@pytest.mark.parametrize("text,detail,line", [
    ('{"cells": [\n<<<<<<< HEAD\n', "not valid JSON", 2),
    ("[1, 2]", "not an object", 1),
    ('{"metadata": {}, "nbformat": 4}', "no `cells` list", 1),
    ('{"cells": [{"source": "x"}]}', "cell 1: not a cell object", 1),
    ('{"cells": [{"cell_type": "code", "source": [1, 2]}]}', "cell 1: `source` must be", 1),
])
def test_malformed_notebook_is_bn905(text, detail, line):
    (f,) = lint_nb(text)
    assert f.code == "BN905" and detail in f.message and f.line == line and f.cell is None


def test_malformed_notebook_from_the_cli(tmp_path):
    (tmp_path / "nb.ipynb").write_text('{"cells": [\n<<<<<<< HEAD\n  "with tf.GradientTape() as t:"\n')
    proc = run_cli("--no-cache", "nb.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("nb.ipynb:2:1: BN905 cannot check this notebook: not valid JSON")


def test_not_utf8_is_bn901():
    (f,) = lint_bytes(b'{"cells": ["\xff"]}', "nb.ipynb", KERAS3)
    assert f.code == "BN901"


def test_discovery_finds_notebooks_but_not_checkpoints(tmp_path):
    (tmp_path / "a.ipynb").write_text(notebook(IMPORTS))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text(notebook(IMPORTS))
    (tmp_path / "b.py").write_text("x = 1\n")
    assert sorted(p.rsplit("/", 1)[-1] for p in discover([str(tmp_path)], Config())) == ["a.ipynb", "b.py"]


def test_findings_know_their_line_in_the_ipynb_file(tmp_path):
    text = notebook(IMPORTS, BUILD, TRAIN)
    (f,) = lint_nb(text)
    assert "out = model(x)" in text.splitlines()[f.extra["ipynb_line"] - 1]


def test_directory_run_and_cache_keep_cells(tmp_path):
    (tmp_path / "nb.ipynb").write_text(notebook(IMPORTS, BUILD, TRAIN))
    first = run_cli("--keras", "3", "--output-format", "json", ".", cwd=tmp_path)
    second = run_cli("--keras", "3", "--output-format", "json", ".", cwd=tmp_path)  # from the cache
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert [r["cell"] for r in json.loads(second.stdout)] == [3]


# -- any .py split into cells gives the same findings ---------------------------------
def _invalid_examples():
    from bnlint.specs import load_specs

    return [textwrap.dedent(ex.code) for code, spec in sorted(load_specs().items())
            if not code.startswith("BN9") and spec.default for ex in spec.invalid]  # on by default


EXAMPLES = _invalid_examples()


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_splitting_a_file_into_cells_keeps_its_findings(data):
    """Cut a rule example into cells at top-level statements, with markdown cells
    and magics between them: every finding comes back at the same place."""
    import ast

    source = data.draw(st.sampled_from(EXAMPLES))
    lines = source.splitlines(True)
    # a statement starts at its first decorator, not at its `def` (ast's lineno)
    starts = sorted({min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                     for node in ast.parse(source).body} | {1})
    cuts = sorted(set(data.draw(st.lists(st.sampled_from(starts), max_size=4))) | {1})
    cells, origin = [], {}  # origin: (cell, line in cell) -> line in the .py
    for k, start in enumerate(cuts):
        end = cuts[k + 1] if k + 1 < len(cuts) else len(lines) + 1
        if data.draw(st.booleans()):
            cells.append(("markdown", "Some *notes*\n"))
        magic = data.draw(st.sampled_from(["", "%matplotlib inline\n", "!nvidia-smi\n"]))
        cells.append(("code", magic + "".join(lines[start - 1:end - 1])))
        for n in range(start, end):
            origin[(len(cells), n - start + 1 + bool(magic))] = n
    want = [(f.code, f.line, f.column, f.message) for f in lint_bytes(source.encode(), "x.py", KERAS3)]
    found = lint_nb(notebook(*cells))
    where_in_py = {f"{line} in cell {cell}": str(n) for (cell, line), n in origin.items()}
    got = [(f.code, origin[(f.cell, f.line)], f.column,
            re.sub(r"\d+ in cell \d+", lambda m: where_in_py[m.group()], f.message)) for f in found]
    assert sorted(got) == sorted(want) and want


def test_a_message_that_names_a_line_names_its_cell():
    text = notebook(
        ("code", 'import tensorflow as tf\ntraining_node = tf.placeholder_with_default(True, (), name="t")\n'),
        ("code", "net = tf.layers.conv2d(input_node, 32, (3, 3))\n"
                 "net = tf.layers.batch_normalization(net, training=training_node)\n"),
        ("markdown", "Train it:\n"),
        ("code", "train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n"))
    (f,) = lint_nb(text)
    assert (f.code, f.cell, f.line) == ("BN003", 4, 1)
    assert "batch norm on line 2 in cell 2:" in f.message


def test_stdin_with_a_notebook_name(tmp_path):
    data = notebook(IMPORTS, BUILD, TRAIN).encode()
    proc = run_cli("--no-cache", "--keras", "3", "-", "--stdin-filename", "nb.ipynb", stdin=data, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("nb.ipynb:cell 3:3:15: BN001 ")


# -- --fix / --diff on notebooks (issue 13 item 4) -------------------------------
from bnlint.fixes.command import fix_text  # noqa: E402
from bnlint.fixes.notebook import NotFixable, fix_notebook  # noqa: E402

FIXABLE = [ex for ex in EXAMPLES if fix_text(ex, "x.py", KERAS3, unsafe=True).text != ex]


def _code_sources(text):
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in json.loads(text)["cells"] if c["cell_type"] == "code"]


def test_fix_edits_the_cell_and_nothing_else(tmp_path):
    text = notebook(IMPORTS, BUILD, ("markdown", "now train\n"), TRAIN)
    (tmp_path / "nb.ipynb").write_text(text)
    proc = run_cli("--no-cache", "--keras", "3", "--fix", "nb.ipynb", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    new = (tmp_path / "nb.ipynb").read_text()
    assert new == text.replace('"        out = model(x)\\n"', '"        out = model(x, training=True)\\n"')
    assert new != text
    assert run_cli("--no-cache", "--keras", "3", "nb.ipynb", cwd=tmp_path).returncode == 0


def test_diff_shows_the_notebook_change_and_writes_nothing(tmp_path):
    text = notebook(IMPORTS, BUILD, TRAIN)
    (tmp_path / "nb.ipynb").write_text(text)
    proc = run_cli("--no-cache", "--keras", "3", "--diff", "nb.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.startswith("--- nb.ipynb\n+++ nb.ipynb\n")
    assert '-    "        out = model(x)\\n",\n+    "        out = model(x, training=True)\\n",\n' in out
    assert (tmp_path / "nb.ipynb").read_text() == text


def test_fix_keeps_the_files_own_json_style():
    """Four-space indent, sorted keys, CRLF in the file, \\u escapes, a one-string
    source, a cell without a final newline: only the fixed string changes."""
    doc = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["Gr\u00f6\u00dfe \u2014 notes"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["x"]}, "outputs": [],
         "source": "import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])"},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [{"output_type": "stream",
         "name": "stdout", "text": ["ok\n"]}],
         "source": ["# caf\u00e9\n", "with tf.GradientTape() as tape:\n", "    y = model(x)"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(doc, indent=4, sort_keys=True).replace("\n", "\r\n")
    out = fix_notebook(text, "nb.ipynb", KERAS3)
    assert out.fixed == 1
    assert out.text == text.replace('"    y = model(x)"', '"    y = model(x, training=True)"')


def test_a_fix_that_adds_lines_at_the_end_of_a_cell():
    """BN003 wraps the statement in a `with`; the cell's last line has no newline."""
    text = notebook(
        ("code", "import tensorflow as tf\nnet = tf.layers.batch_normalization(x, training=is_training)\n"),
        ("code", "train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)"))
    out = fix_notebook(text, "nb.ipynb", KERAS3)
    assert out.fixed == 1 and not out.broken
    (_, cell) = _code_sources(out.text)
    assert cell == ("with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
                    "    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)")
    assert lint_nb(out.text) == []


def test_crlf_cell_sources_keep_their_line_breaks():
    text = notebook(
        ("code", "import tensorflow as tf\r\nnet = tf.layers.batch_normalization(x, training=is_training)\r\n"),
        ("code", "x = 1\r\ntrain_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\r\ny = 2\r\n"))
    (_, cell) = _code_sources(fix_notebook(text, "nb.ipynb", KERAS3).text)
    assert cell == ("x = 1\r\nwith tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\r\n"
                    "    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\r\ny = 2\r\n")


def test_a_fix_that_cannot_be_mapped_is_reported_not_dropped(tmp_path):
    """In a cell IPython runs dedented, new lines would need the indentation back."""
    text = notebook(
        ("code", "import tensorflow as tf\nnet = tf.layers.batch_normalization(x, training=is_training)\n"),
        ("code", "  train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n", "as is"))
    (tmp_path / "nb.ipynb").write_text(text)
    proc = run_cli("--no-cache", "--keras", "3", "--fix", "nb.ipynb", cwd=tmp_path)
    assert "nb.ipynb: 1 fix not applied" in proc.stderr.decode()
    assert proc.returncode == 1 and "BN003" in proc.stdout.decode()
    assert (tmp_path / "nb.ipynb").read_text() == text


def test_a_notebook_that_cannot_be_read_says_so_under_fix(tmp_path):
    (tmp_path / "nb.ipynb").write_text('{"cells": [ "GradientTape"')
    for flag in ("--fix", "--diff"):
        proc = run_cli("--no-cache", flag, "nb.ipynb", cwd=tmp_path)
        assert "nb.ipynb: not fixed: not a readable notebook" in proc.stderr.decode(), flag
        assert proc.returncode == (1 if flag == "--fix" else 0)  # --diff: exit 1 means "a change"
    with pytest.raises(NotFixable):
        fix_notebook('{"cells": 3}', "nb.ipynb", KERAS3)


def test_a_cell_that_does_not_parse_is_left_alone_and_the_rest_fixed():
    text = notebook(IMPORTS, BUILD, ("code", "def broken(:\n    pass\n"), TRAIN)
    out = fix_notebook(text, "nb.ipynb", KERAS3)
    assert out.fixed == 1
    assert _code_sources(out.text)[2] == "def broken(:\n    pass\n"


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fixing_cells_fixes_as_the_file_would_be_fixed(data):
    """Any fixable rule example cut into cells (magics, markdown, cells without a
    final newline, CRLF, one-string sources): the fixed cells joined are the
    fixed file, and the .ipynb text is the one json.dumps would write."""
    import ast

    source = data.draw(st.sampled_from(FIXABLE))
    lines = source.splitlines(True)
    starts = sorted({min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                     for node in ast.parse(source).body} | {1})
    cuts = sorted(set(data.draw(st.lists(st.sampled_from(starts), max_size=4))) | {1})
    crlf = data.draw(st.booleans())
    cells, magics = [], []
    for k, start in enumerate(cuts):
        end = cuts[k + 1] if k + 1 < len(cuts) else len(lines) + 1
        if data.draw(st.booleans()):
            cells.append(("markdown", "Some *notes* \u00e9\n"))
        magic = data.draw(st.sampled_from(["", "%matplotlib inline\n", "!nvidia-smi\n"]))
        body = magic + "".join(lines[start - 1:end - 1])
        if data.draw(st.booleans()) and not body.endswith("\n\n"):
            # Jupyter saves a cell without its last newline (a cell ending in a
            # blank line keeps it: stripping there would drop a line of the file)
            body = body[:-1]
        if crlf:
            body = body.replace("\n", "\r\n")
        cells.append(("code", body, "as is"))
        magics.append(magic)
    text = notebook(*cells, as_string=data.draw(st.booleans()))
    out = fix_notebook(text, "nb.ipynb", KERAS3, unsafe=True)
    fixed = _code_sources(out.text)
    joined = "".join(s.replace("\r\n", "\n")[len(m):] + ("" if s.endswith("\n") else "\n")
                     for s, m in zip(fixed, magics))
    assert joined == fix_text(source, "x.py", KERAS3, unsafe=True).text
    doc = json.loads(text)
    code = [c for c in doc["cells"] if c["cell_type"] == "code"]
    for c, s in zip(code, fixed):
        c["source"] = s if isinstance(c["source"], str) else re.findall(r"[^\r\n]*(?:\r\n|\n)|[^\r\n]+", s)
    assert out.text == json.dumps(doc, indent=1, ensure_ascii=False)


def test_fix_a_notebook_on_stdin(tmp_path):
    data = notebook(IMPORTS, BUILD, TRAIN)
    proc = run_cli("--no-cache", "--keras", "3", "--fix", "-", "--stdin-filename", "nb.ipynb",
                      stdin=data.encode(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == data.replace("model(x)\\n", "model(x, training=True)\\n")
