"""docs/rules/BNxxx.md: generated from the specs, up to date, and the links
that outputs carry (JSON `url`, SARIF `helpUri`, LSP `codeDescription`)
point at them in the repository, not at a file inside site-packages."""

import re
import shutil
import subprocess
import sys
try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

from bnlint.specs import DOCS_BRANCH, REPOSITORY_URL, load_specs

from conftest import ROOT

GENERATE = [sys.executable, str(ROOT / "docs" / "generate.py")]


def test_generated_pages_are_up_to_date():
    proc = subprocess.run([*GENERATE, "--check"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_names_a_stale_page_and_a_page_without_a_spec(tmp_path):
    shutil.copytree(ROOT / "docs" / "rules", tmp_path / "rules")
    page = tmp_path / "rules" / "BN002.md"
    page.write_text(page.read_text().replace("## Why is this bad?", "## Why"))
    (tmp_path / "rules" / "BN099.md").write_text("# gone\n")
    proc = subprocess.run([*GENERATE, "--check", "--out", str(tmp_path / "rules")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "BN002.md: out of date" in proc.stdout and "BN099.md: no spec" in proc.stdout
    subprocess.run([*GENERATE, "--out", str(tmp_path / "rules")], check=True, timeout=120)
    assert page.read_text() == (ROOT / "docs" / "rules" / "BN002.md").read_text()
    assert not (tmp_path / "rules" / "BN099.md").exists()


def test_every_spec_has_a_page_with_its_sections():
    for code, spec in load_specs().items():
        text = (ROOT / "docs" / "rules" / f"{code}.md").read_text()
        assert text.count(f"# {spec.name} ({code})") == 1
        for title in ("## What it does", "## Why is this bad?", "## Fix safety"):
            assert title in text, (code, title)
        assert f"Severity: {spec.severity}" in text


def test_the_repository_url_is_pyprojects():
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == REPOSITORY_URL


def test_rule_urls_point_at_pages_that_exist_in_the_repository():
    for code, spec in load_specs().items():
        url = spec.url()
        assert url == f"{REPOSITORY_URL}/blob/{DOCS_BRANCH}/docs/rules/{code}.md"
        assert (ROOT / url[len(f"{REPOSITORY_URL}/blob/{DOCS_BRANCH}/"):]).is_file()


def test_no_reference_points_nowhere():
    """Links into the repository (full or relative) name files that exist, and
    no text a user reads names a file that is not in the repository."""
    texts = {p: p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs" / "rules").glob("*.md")]}
    texts.update({p: p.read_text() for p in (ROOT / "rules").glob("BN*.yaml")})
    prefix = re.escape(f"{REPOSITORY_URL}/blob/{DOCS_BRANCH}/")
    for path, text in texts.items():
        for target in re.findall(prefix + r"([\w./-]+[\w/])", text):
            assert (ROOT / target).exists(), (path.name, target)
        if path.suffix == ".md":
            for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", text):
                assert (path.parent / target).exists(), (path.name, target)
        for name in ("rules.md", "design.md", "false_positives.md"):
            for m in re.finditer(r"[\w./{}:-]*" + re.escape(name), text):
                assert m.group().startswith(("{repo}/", REPOSITORY_URL)) or "/" in m.group() and \
                    (ROOT / m.group()).exists(), (path.name, m.group())
