"""The pre-commit hook, through pre-commit itself.

pre-commit's manifest loader validates `.pre-commit-hooks.yaml`; then its
hook runner installs bnlint from a git copy of this tree into its own
virtualenv (as a user's `repos:` entry would) and runs the hook on the files
staged in a scratch repository.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

pre_commit = pytest.importorskip("pre_commit")
from identify.identify import tags_from_filename  # noqa: E402  (pre-commit's file typing)
from pre_commit.clientlib import load_manifest  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
NOTEBOOK = """{"cells": [
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
  "source": ["%pip install tensorflow\\n", "import tensorflow as tf\\n",
             "model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\\n"]},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
  "source": ["with tf.GradientTape() as tape:\\n", "    y = model(x)\\n"]}
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
"""


def git(*args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def test_manifest_is_valid_for_pre_commit():
    hooks = load_manifest(str(MANIFEST))  # raises on any schema error
    (hook,) = [h for h in hooks if h["id"] == "bnlint"]
    assert hook["language"] == "python" and hook["pass_filenames"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"].split()[0] in scripts  # the command the hook runs is installed
    for name, wanted in (("train.py", True), ("stubs.pyi", True), ("nb.ipynb", True), ("README.md", False)):
        tags = tags_from_filename(name)
        assert bool(tags & set(hook["types_or"])) == wanted, (name, tags)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This tree as a git repository, as pre-commit would clone it."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "bnlint", repo / "bnlint", ignore=ignore)
    shutil.copytree(ROOT / "rules", repo / "rules", ignore=ignore)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "hook", cwd=repo)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    return repo, rev


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")  # the hook's virtualenv is built once


def user_repo(tmp_path, hook_repo):
    repo_path, rev = hook_repo
    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo_path.as_posix()}\n  rev: {rev}\n  hooks:\n  - id: bnlint\n")
    git("add", ".pre-commit-config.yaml", cwd=repo)
    return repo


def run_hook(repo, home, *args):
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "bnlint", *args], cwd=repo,
                          capture_output=True, text=True, env=env, timeout=600)


def test_hook_fails_on_staged_buggy_files(tmp_path, hook_repo, home):
    repo = user_repo(tmp_path, hook_repo)
    shutil.copy(ROOT / "examples" / "buggy" / "bn001_gradient_tape.py", repo / "train.py")
    (repo / "explore.ipynb").write_text(NOTEBOOK)
    shutil.copy(ROOT / "examples" / "fixed" / "bn001_gradient_tape.py", repo / "not_staged.py")
    git("add", "train.py", "explore.ipynb", cwd=repo)
    proc = run_hook(repo, home)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "bnlint" in out and "Failed" in out and "exit code: 1" in out
    expected = run_cli("--no-cache", "-q", "train.py", "explore.ipynb", cwd=repo).stdout.decode()
    assert sorted(line.split(":")[0] for line in expected.splitlines()) == ["explore.ipynb", "train.py"]
    assert "explore.ipynb:cell 2:2:9: BN001" in expected
    for line in expected.splitlines():
        assert line in out  # the hook reports what `bnlint` reports
    assert "not_staged.py" not in out


def test_hook_passes_on_clean_staged_files(tmp_path, hook_repo, home):
    repo = user_repo(tmp_path, hook_repo)
    shutil.copy(ROOT / "examples" / "fixed" / "bn001_gradient_tape.py", repo / "train.py")
    shutil.copy(ROOT / "examples" / "buggy" / "bn001_gradient_tape.py", repo / "unstaged.py")
    git("add", "train.py", cwd=repo)
    proc = run_hook(repo, home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_hook_skips_other_file_types(tmp_path, hook_repo, home):
    repo = user_repo(tmp_path, hook_repo)
    (repo / "notes.md").write_text("with tf.GradientTape() as tape:\n    y = model(x)\n")
    git("add", "notes.md", cwd=repo)
    proc = run_hook(repo, home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no files to check" in proc.stdout


def test_one_summary_per_hook_run(tmp_path, hook_repo, home):
    """pre-commit splits a hook's files into one batch per CPU unless the hook
    has `require_serial: true`; bnlint has its own pool, so one call and one
    summary (as ruff's and black's hooks). With 8 files and 2 or more CPUs,
    pre-commit would otherwise make at least 2 batches of 4."""
    repo = user_repo(tmp_path, hook_repo)
    names = []
    for i in range(8):
        shutil.copy(ROOT / "examples" / "buggy" / "bn001_gradient_tape.py", repo / f"train{i}.py")
        names.append(f"train{i}.py")
    git("add", *names, cwd=repo)
    proc = run_hook(repo, home, "--verbose")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert out.count("Found 8 findings in 8 files checked.") == 1, out
    assert "Found 1 finding" not in out and "Found 2 findings" not in out
