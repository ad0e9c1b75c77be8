"""A damaged or shared cache never changes what bnlint reports.

Every test compares against a `--no-cache` run of the same tree: truncated,
garbled, bit-flipped and hand-edited entries are misses and get rebuilt;
two runs at once see whole entries only; an unwritable cache directory
just means no cache.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.cache import Cache
from bnlint.config import Config
from bnlint.engine import RunStats, lint_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i, path in enumerate(EXAMPLES * 2):  # 2x: enough candidates for the pool
        (src / f"{i:02d}_{path.name}").write_bytes(path.read_bytes())
    return src


def cli(tree: Path, *args):
    proc = subprocess.run([sys.executable, "-m", "bnlint", "--output-format", "json", *args, "."],
                          cwd=tree, capture_output=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return json.loads(proc.stdout)


def entries(cache_dir: Path):
    return sorted(p for p in cache_dir.rglob("*.json") if not p.name.startswith(".tmp-"))


def api_run(tree: Path, cache_dir: Path, use_cache=True):
    stats = RunStats()
    files = sorted(str(p) for p in tree.glob("*.py"))
    results = lint_paths(files, Config(), jobs=1, use_cache=use_cache, cache_dir=str(cache_dir), stats=stats)
    return [f.to_dict() for r in results for f in r.findings], stats


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "not-json-object",
                                    "bit-flip", "wrong-types", "other-file"])
def test_damaged_entries_are_misses(tree, tmp_path, damage):
    cache_dir = tmp_path / "cache"
    want, _ = api_run(tree, cache_dir, use_cache=False)
    api_run(tree, cache_dir)  # fills the cache
    files = entries(cache_dir)
    assert files
    with_findings = [p for p in files if json.loads(json.load(open(p))["findings"])]
    for p in files:
        raw = p.read_bytes()
        entry = json.loads(raw)
        if damage == "truncated":
            p.write_bytes(raw[: len(raw) // 2])
        elif damage == "empty":
            p.write_bytes(b"")
        elif damage == "garbage":
            p.write_bytes(os.urandom(64))
        elif damage == "not-json-object":
            p.write_text("[1, 2, 3]")
        elif damage == "bit-flip" and p in with_findings:
            # a digit of a line number changes: still valid JSON, wrong answer
            entry["findings"] = entry["findings"].replace('"line": ', '"line": 9', 1)
            p.write_text(json.dumps(entry))
        elif damage == "wrong-types" and p in with_findings:
            findings = json.loads(entry["findings"])
            findings[0]["line"] = "7"
            entry["findings"] = json.dumps(findings)
            import hashlib
            entry["sha256"] = hashlib.sha256(entry["findings"].encode()).hexdigest()
            p.write_text(json.dumps(entry))
        elif damage == "other-file" and p in with_findings:
            # a well-formed entry, but the findings name another file
            findings = json.loads(entry["findings"])
            findings[0]["filename"] = "/elsewhere.py"
            entry["findings"] = json.dumps(findings)
            import hashlib
            entry["sha256"] = hashlib.sha256(entry["findings"].encode()).hexdigest()
            p.write_text(json.dumps(entry))
    got, stats = api_run(tree, cache_dir)
    assert got == want
    if damage in ("truncated", "empty", "garbage", "not-json-object"):
        assert stats.cached == 0
    again, stats = api_run(tree, cache_dir)  # rebuilt: now every candidate is a hit
    assert again == want and stats.cached == len(files)


def test_an_edited_file_is_checked_again(tree, tmp_path):
    cache_dir = tmp_path / "cache"
    before, _ = api_run(tree, cache_dir)
    target = sorted(tree.glob("*_bn001_gradient_tape.py"))[0]
    text = target.read_text()
    assert "logits = model(images)" in text
    target.write_text(text.replace("logits = model(images)", "logits = model(images, training=True)"))
    got, _ = api_run(tree, cache_dir)
    want, _ = api_run(tree, cache_dir, use_cache=False)
    assert got == want and len(got) < len(before)


def test_two_runs_at_once_match_no_cache(tree, tmp_path):
    want = cli(tree, "--no-cache")
    cache_dir = tmp_path / "shared-cache"
    for _ in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "bnlint", "--output-format", "json",
                                   "--cache-dir", str(cache_dir), "-j", "2", "."],
                                  cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode in (0, 1), err.decode()
            assert json.loads(out) == want
    assert not list(cache_dir.rglob(".tmp-*")), "a temp file was left behind"
    assert (cache_dir / ".gitignore").read_text().strip().endswith("*")


def test_unwritable_cache_dir_means_no_cache(tree, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    want = cli(tree, "--no-cache")
    assert cli(tree, "--cache-dir", str(blocker / "cache")) == want
    assert blocker.read_text() == "not a directory"


def test_cache_key_covers_config(tree, tmp_path):
    cache_dir = tmp_path / "cache"
    all_rules = cli(tree, "--cache-dir", str(cache_dir))
    only_bn002 = cli(tree, "--cache-dir", str(cache_dir), "--select", "BN002")
    assert only_bn002 == [f for f in all_rules if f["code"] == "BN002"]
    assert cli(tree, "--cache-dir", str(cache_dir)) == all_rules


def test_default_cache_dir_is_ignored_by_git(tree):
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    cli(tree)
    assert (tree / ".bnlint_cache" / ".gitignore").exists()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tree,
                            capture_output=True, text=True).stdout
    assert ".bnlint_cache" not in status


def test_cache_object_ignores_entry_for_other_bytes(tmp_path):
    cache = Cache(str(tmp_path), Config())
    cache.put("a.py", b"one", [])
    assert cache.get("a.py", b"one") == []
    assert cache.get("a.py", b"two") is None
    assert cache.get("b.py", b"one") is None
