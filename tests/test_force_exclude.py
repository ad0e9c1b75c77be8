"""--force-exclude / force-exclude: excludes apply to files named explicitly
(pre-commit passes every staged file by name)."""

import json
import shutil
from pathlib import Path

from conftest import run_cli

BUGGY = Path(__file__).resolve().parent.parent / "examples" / "buggy" / "bn001_gradient_tape.py"


def _files(result):
    return sorted({f["filename"] for f in json.loads(result.stdout)})


def _tree(tmp_path):
    (tmp_path / "build").mkdir()
    shutil.copy(BUGGY, tmp_path / "build" / "gen.py")
    shutil.copy(BUGGY, tmp_path / "train.py")


def test_explicit_files_are_linted_without_force_exclude(tmp_path):
    _tree(tmp_path)
    result = run_cli("--output-format", "json", "--no-cache", "build/gen.py", "train.py", cwd=tmp_path)
    assert _files(result) == ["build/gen.py", "train.py"]


def test_force_exclude_flag_skips_default_excludes(tmp_path):
    _tree(tmp_path)
    result = run_cli("--output-format", "json", "--no-cache", "--force-exclude",
                        "build/gen.py", "train.py", cwd=tmp_path)
    assert _files(result) == ["train.py"]


def test_force_exclude_from_config_with_a_pattern(tmp_path):
    _tree(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nforce-exclude = true\nextend-exclude = ["train.py"]\n')
    result = run_cli("--output-format", "json", "--no-cache", "build/gen.py", "train.py", cwd=tmp_path)
    assert result.returncode == 0 and _files(result) == []


def test_force_exclude_must_be_a_boolean(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nforce-exclude = "yes"\n')
    result = run_cli("x.py", cwd=tmp_path)
    assert result.returncode == 2 and b"force-exclude" in result.stderr
