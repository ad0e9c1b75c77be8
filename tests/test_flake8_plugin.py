"""The flake8 plugin, driven through the real `flake8` command.

flake8 finds the plugin through its entry point, so these tests also check
the packaging. Every comparison is against `bnlint --output-format json`
on the same files: the plugin must add no rule logic of its own.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bnlint.specs import load_specs

from conftest import ROOT, run_cli

FMT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"


def flake8(*args, cwd=ROOT):
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", f"--format={FMT}", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    rows = set()
    for line in proc.stdout.splitlines():
        path, row, col, code, text = line.split("|", 4)
        rows.add((str(Path(path)), int(row), int(col), code, text))
    return proc, rows


def bnlint_rows(*paths, cwd=ROOT):
    proc = run_cli("--no-cache", "--output-format", "json", *paths, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return {(str(Path(r["filename"])), r["line"], r["column"], r["code"], r["message"])
            for r in json.loads(proc.stdout)}


def _bn(rows):
    return {r for r in rows if r[3].startswith("BN")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every INVALID example of every rule spec as a file, plus the examples."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "pyproject.toml").write_text('[tool.bnlint]\nkeras = "3"\n')  # the examples' Keras
    for code, spec in load_specs().items():
        if code.startswith("BN9"):
            continue  # flake8 reports unparsable files itself (E999)
        for i, example in enumerate(spec.invalid):
            (root / f"{code.lower()}_invalid_{i}.py").write_text(textwrap.dedent(example.code))
    shutil.copytree(ROOT / "examples", root / "examples")
    return root


def test_plugin_is_registered():
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert "bnlint" in proc.stdout, proc.stdout


def test_examples_match_bnlint():
    """The issue's check: same (file, line, code) set on examples/."""
    _, rows = flake8("--select", "BN", "examples/")
    got = {(p, line, code) for p, line, _, code, _ in rows}
    want = {(p, line, code) for p, line, _, code, _ in bnlint_rows("examples/")}
    assert want and got == want


def test_rule_examples_match_bnlint_exactly(corpus):
    """Codes, lines, columns and messages, on every INVALID example."""
    # flake8's explicit `--select BN` wins over its default ignore, so it runs
    # the rules that are off by default too: bnlint's `--select ALL`.
    _, rows = flake8("--select", "BN", ".", cwd=corpus)
    want = bnlint_rows("--select", "ALL", ".", cwd=corpus)
    assert len(want) >= 20, "the corpus should exercise every rule"
    assert {r[3] for r in want} >= {"BN001", "BN002", "BN003"}
    assert rows == want


def test_parallel_jobs_give_the_same_result(corpus):
    _, serial = flake8("-j", "1", "--select", "BN", ".", cwd=corpus)
    proc, parallel = flake8("-j", "2", "--select", "BN", ".", cwd=corpus)
    assert serial and parallel == serial
    assert "multiprocessing" not in proc.stderr  # flake8 warns when it falls back to serial


BUGGY = """\
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
with tf.GradientTape() as tape:
    y = model(x){noqa}
"""


@pytest.mark.parametrize("comment,silenced", [
    ("", False),
    ("  # noqa: BN001", True),
    ("  # noqa", True),
    ("  # noqa: BN0", True),
    ("  # noqa: E501", False),
    ("  # noqa: BN002", False),
])
def test_noqa_is_flake8s(tmp_path, comment, silenced):
    (tmp_path / "train.py").write_text(BUGGY.format(noqa=comment))
    _, rows = flake8("--select", "BN", "train.py", cwd=tmp_path)
    assert bool(rows) != silenced, rows
    if comment:
        # flake8, not bnlint, did the silencing: --disable-noqa brings it back.
        _, rows = flake8("--select", "BN", "--disable-noqa", "train.py", cwd=tmp_path)
        assert {r[3] for r in rows} == {"BN001"}


def test_extend_select_with_other_plugins(tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent("""\
        import os
        import tensorflow as tf


        model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])


        def fit(x, seen=[]):
            with tf.GradientTape() as tape:
                y = model(x)
            return tape, y,seen
        """))
    proc, rows = flake8("--extend-select", "BN,B", "train.py", cwd=tmp_path)
    codes = {r[3] for r in rows}
    assert {"F401", "E231", "B006", "BN001"} <= codes, proc.stdout
    bn = [r for r in rows if r[3] == "BN001"]
    assert bn == [r for r in bnlint_rows("train.py", cwd=tmp_path)]


def test_select_excludes_bn_when_not_selected(tmp_path):
    (tmp_path / "train.py").write_text(BUGGY.format(noqa=""))
    _, rows = flake8("--select", "F", "train.py", cwd=tmp_path)
    assert not _bn(rows)


NO_TRAINING_PARAM = """\
import tensorflow as tf


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.bn = tf.keras.layers.BatchNormalization()

    def call(self, x):
        return self.bn(x)
"""


@pytest.mark.parametrize("keras,expected", [("3", {"BN002"}), ("2", set())])
def test_project_config_reaches_the_plugin(tmp_path, keras, expected):
    """`[tool.bnlint] keras` changes what is found (a `call()` without `training`
    only loses the mode under Keras 3), through flake8 as through bnlint."""
    (tmp_path / "pyproject.toml").write_text(f'[tool.bnlint]\nkeras = "{keras}"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "net.py").write_text(NO_TRAINING_PARAM)
    _, rows = flake8("--select", "BN", "pkg", cwd=tmp_path)
    assert {r[3] for r in rows} == expected
    assert rows == bnlint_rows("pkg", cwd=tmp_path)


def test_nearest_config_per_file_as_the_cli(tmp_path):
    """`keras = "2"` in sub/ only: flake8 and bnlint agree file by file, in
    either order on the command line (issue 13: config per file)."""
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nkeras = "3"\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.bnlint]\nkeras = "2"\n')
    (tmp_path / "net.py").write_text(NO_TRAINING_PARAM)
    (tmp_path / "sub" / "net.py").write_text(NO_TRAINING_PARAM)
    for order in (("net.py", "sub/net.py"), ("sub/net.py", "net.py")):
        _, rows = flake8("--select", "BN", *order, cwd=tmp_path)
        assert {(Path(r[0]).as_posix(), r[3]) for r in rows} == {("net.py", "BN002")}
        assert rows == bnlint_rows(*order, cwd=tmp_path)


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("body,named", [
    ('selct = ["BN001"]', "unknown key `selct`"),
    ('select = ["BN004"]', "unknown rule selector 'BN004'"),
    ('keras = "4"', "`keras`"),
])
def test_bad_config_fails_flake8_as_it_fails_bnlint(tmp_path, jobs, body, named):
    (tmp_path / "pyproject.toml").write_text(f"[tool.bnlint]\n{body}\n")
    (tmp_path / "a.py").write_text(BUGGY.format(noqa=""))
    (tmp_path / "b.py").write_text(BUGGY.format(noqa=""))
    cli = run_cli("--no-cache", "a.py", "b.py", cwd=tmp_path)
    assert cli.returncode == 2 and named in cli.stderr.decode()
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "-j", jobs, "--select", "BN",
                           "a.py", "b.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert f"bnlint: {tmp_path / 'pyproject.toml'}: " in proc.stdout and named in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr and "a.py:" not in proc.stdout
