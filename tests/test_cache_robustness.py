"""A damaged or shared cache never changes what bnlint reports.

Every test compares against a `--no-cache` run of the same tree: truncated,
garbled, bit-flipped and hand-edited entries are misses and get rebuilt;
two runs at once see whole entries only; an unwritable cache directory
just means no cache.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.cache import Cache
from bnlint.config import Config
from bnlint.engine import RunStats, lint_paths
from bnlint.finding import Finding

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i, path in enumerate(EXAMPLES * 2):  # 2x: enough candidates for the pool
        (src / f"{i:02d}_{path.name}").write_bytes(path.read_bytes())
    return src


def cli(tree: Path, *args, env=None):
    """The CLI's JSON findings for `.` in `tree`, from cli.main in this process
    (conftest.run_cli); two runs at once below are real processes."""
    proc = run_cli("--output-format", "json", *args, ".", cwd=tree, env=env)
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


def test_default_cache_is_in_the_users_cache_dir_not_the_tree(tree, tmp_path):
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    xdg = tmp_path / "xdg"
    env = {"XDG_CACHE_HOME": str(xdg)}
    want = cli(tree, "--no-cache")
    assert cli(tree, env=env) == want and cli(tree, env=env) == want
    assert not (tree / ".bnlint_cache").exists()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tree,
                            capture_output=True, text=True).stdout
    assert status.strip() == "\n".join(f"?? {p.name}" for p in sorted(tree.glob("*.py"))).strip()
    [project] = (xdg / "bnlint" / "projects").iterdir()
    assert entries(project)
    secret = xdg / "bnlint" / "secret"
    assert secret.stat().st_size == 32 and stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_cache_object_ignores_entry_for_other_bytes(tmp_path):
    cache = Cache(str(tmp_path), Config(), secret=b"s" * 32)
    cache.put("a.py", b"one", [])
    assert cache.get("a.py", b"one") == []
    assert cache.get("a.py", b"two") is None
    assert cache.get("b.py", b"one") is None


# -- the cache is untrusted input ---------------------------------------------------
def _forge(cache_dir: Path, tree: Path, secret: bytes):
    """What an attacker who knows the key scheme commits: entries under
    their own secret that say the buggy files are clean and a clean file
    has a finding (with terminal escape codes in it)."""
    forger = Cache(str(cache_dir), Config(), secret=secret)
    files = sorted(tree.glob("*.py"))
    for p in files:
        rel = f"./{p.name}"  # the CLI's path for a file found under "."
        fake = Finding("BN001", "\x1b[2J\x1b]0;pwned\x07 fake", rel, 1, 1, 1, 2, name="x")
        forger.put(rel, p.read_bytes(), [] if "buggy" in p.name or "bn00" in p.name else [fake])
    return files


def test_a_committed_cache_neither_hides_nor_injects(tree, tmp_path):
    want = cli(tree, "--no-cache")
    assert want, "the examples have findings to hide"
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    _forge(tree / ".bnlint_cache", tree, secret=b"attacker-secret-32-bytes-long!!!")
    assert cli(tree, env=env) == want  # the in-tree directory is not the cache any more
    assert cli(tree, "--cache-dir", str(tree / ".bnlint_cache"), env=env) == want  # nor trusted when named
    assert cli(tree, "--cache-dir", str(tree / ".bnlint_cache"), env=env) == want  # nor after a run


def test_a_symlinked_cache_dir_is_not_written_through(tree, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tree / ".bnlint_cache").symlink_to(elsewhere)
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    want = cli(tree, "--no-cache")
    assert cli(tree, "--cache-dir", str(tree / ".bnlint_cache"), env=env) == want
    assert list(elsewhere.iterdir()) == []
    # Nor a shard directory that is a link.
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    for shard in ("%x" % i for i in range(16)):  # cache.SHARD_LENGTH == 1
        (cache_dir / shard).symlink_to(elsewhere)
    assert cli(tree, "--cache-dir", str(cache_dir), env=env) == want
    assert list(elsewhere.iterdir()) == []


_HOSTILE = """
import hashlib, json, os, sys
from pathlib import Path
from bnlint.cache import Cache, MAX_ENTRY_BYTES
from bnlint.config import Config
d = Path(sys.argv[1])
c = Cache(str(d), Config(), secret=b"s" * 32)
fifo = str(d / "fifo")
os.mkfifo(fifo)
# A dependency list naming /dev/zero and a FIFO, under a valid MAC.
for i, dep in enumerate(["/dev/zero", fifo, "/dev/stdin"]):
    key = c._key(f"f{i}.py", b"data")
    deps = json.dumps([[dep, "0" * 64]])
    entry = {"key": key, "findings": "[]", "dependencies": deps, "mac": c._mac(key, "[]", deps)}
    c._file(key).parent.mkdir(parents=True, exist_ok=True)
    c._file(key).write_text(json.dumps(entry))
    assert c.get(f"f{i}.py", b"data") is None, dep
# put() does not hash them either (it does not cache such a result).
c.put("g.py", b"data", [], dependencies=["/dev/zero", fifo])
assert c.get("g.py", b"data") is None
# The entry itself: a FIFO, a link to /dev/zero, too large, deeply nested.
for i, make in enumerate([
        lambda p: os.mkfifo(p),
        lambda p: os.symlink("/dev/zero", p),
        lambda p: p.write_bytes(b" " * (MAX_ENTRY_BYTES + 1)),
        lambda p: p.write_bytes(b"[" * 1_000_000)]):
    key = c._key(f"h{i}.py", b"data")
    c._file(key).parent.mkdir(parents=True, exist_ok=True)
    make(c._file(key))
    assert c.get(f"h{i}.py", b"data") is None, i
print("ok")
"""


def test_hostile_entries_and_dependencies_neither_hang_nor_exhaust_memory(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _HOSTILE, str(tmp_path)], capture_output=True,
                          timeout=120, stdin=subprocess.PIPE,  # a hang guard, not a timing assertion
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert proc.returncode == 0 and proc.stdout == b"ok\n", proc.stderr.decode()


def test_an_untrustworthy_secret_means_no_cache(tree, tmp_path):
    xdg = tmp_path / "xdg"
    (xdg / "bnlint").mkdir(parents=True)
    secret = xdg / "bnlint" / "secret"
    secret.write_bytes(b"k" * 32)
    secret.chmod(0o644)  # readable by others: anyone could forge entries
    want = cli(tree, "--no-cache")
    assert cli(tree, env={"XDG_CACHE_HOME": str(xdg)}) == want
    assert not (xdg / "bnlint" / "projects").exists()
    assert secret.read_bytes() == b"k" * 32  # left as it was


def test_entries_of_another_secret_are_misses(tmp_path):
    mine = Cache(str(tmp_path), Config(), secret=b"m" * 32)
    theirs = Cache(str(tmp_path), Config(), secret=b"t" * 32)
    theirs.put("a.py", b"one", [])
    assert theirs.get("a.py", b"one") == [] and mine.get("a.py", b"one") is None


def test_an_edited_bnlint_module_is_a_new_cache_key(tmp_path):
    """An editable install edited without a version bump must not read the
    results its earlier code cached (the salt holds the stat of each module)."""
    import os

    from bnlint.cache import _code_digest

    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    before = _code_digest(pkg)
    assert _code_digest(pkg) == before  # stable while nothing changes
    st = os.stat(pkg / "sub" / "b.py")
    os.utime(pkg / "sub" / "b.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert _code_digest.__wrapped__(pkg) != before
    (pkg / "notes.txt").write_text("not code\n")
    assert _code_digest.__wrapped__(pkg) == _code_digest.__wrapped__(pkg)
