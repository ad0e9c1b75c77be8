"""`bnlint --version` and `bnlint rule` start light: no libcst, TensorFlow or
pygls is imported (issue 11), checked with `python -X importtime` in a fresh
interpreter; and `cli` and `runtime.command` do not import each other."""

import ast
import subprocess
import sys

import pytest

from conftest import ROOT


def imported_modules(*args):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bnlint", *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # importtime lines: "import time: self | cumulative | module" (nested ones indented)
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


@pytest.mark.parametrize("args", [("--version",), ("rule", "BN001"), ("rule", "--all"), ("--help",)])
def test_light_commands_do_not_import_the_engine(args):
    modules = imported_modules(*args)
    assert "bnlint.cli" in modules  # the measurement sees our own imports
    heavy = {m for m in modules if m.split(".")[0] in ("libcst", "tensorflow", "pygls", "keras")}
    assert heavy == set()
    assert "bnlint.engine" not in modules and "bnlint.runtime.command" not in modules


def _imports_of(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_runtime_command_does_not_import_cli():
    assert "..cli" not in _imports_of(ROOT / "bnlint" / "runtime" / "command.py")
    assert ".runtime.command" in _imports_of(ROOT / "bnlint" / "cli.py")  # the one direction left
