"""The README's install commands work for someone who has only the
repository (bnlint is not on PyPI), and the extras install one TensorFlow."""

import importlib.metadata
import re
import subprocess
try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

import yaml
from packaging.requirements import Requirement

from bnlint.specs import REPOSITORY_URL

from conftest import ROOT

README = (ROOT / "README.md").read_text()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _is_commit(sha: str) -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{sha}^{{commit}}"],
                          capture_output=True, check=False).returncode == 0


def test_every_pip_install_in_the_readme_works_without_pypi():
    commands = re.findall(r"pip install ([^\n#&]+)", README)
    assert len(commands) >= 5
    for args in commands:
        target = args.strip().strip('"')
        if target == ".":
            continue
        m = re.fullmatch(r"\.\[(\w+)\]", target)
        if m:
            assert m.group(1) in EXTRAS, target
            continue
        req = Requirement(target)
        assert req.name == "bnlint" and set(req.extras) <= set(EXTRAS), target
        m = re.fullmatch(re.escape(f"git+{REPOSITORY_URL}@") + r"([0-9a-f]{40})", req.url or "")
        assert m and _is_commit(m.group(1)), f"{target}: not this repository at a commit SHA"


def test_the_pre_commit_snippet_pins_a_commit_of_this_repository():
    (snippet,) = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", README, re.S)
    (repo,) = yaml.safe_load(snippet)["repos"]
    assert repo["repo"] == REPOSITORY_URL
    assert re.fullmatch(r"[0-9a-f]{40}", str(repo["rev"])) and _is_commit(repo["rev"]), repo["rev"]
    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {h["id"] for h in repo["hooks"]} <= hooks


def test_the_extras_install_one_tensorflow():
    """tf-keras requires the distribution named `tensorflow` (its installed
    metadata says so); an extra that also asks for `tensorflow-cpu` gets both."""
    needs = {Requirement(r).name for r in importlib.metadata.requires("tf_keras") or []
             if "extra ==" not in r}
    assert "tensorflow" in needs
    for extra in ("test", "runtime"):
        names = {Requirement(r).name.lower() for r in EXTRAS[extra]}
        assert "tf-keras" in names, extra
        tf = {n for n in names if n.startswith("tensorflow") and not n.startswith("tensorflow-io")}
        assert tf == {"tensorflow"}, f"{extra}: {sorted(tf)}"
