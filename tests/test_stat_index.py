"""The cache's stat index: a warm run reads no unchanged file, and never
trusts a stat that could hide an edit, nor an index it did not write.

Each test compares with a `--no-cache` run of the same tree."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint import cache as cache_mod
from bnlint import engine
from bnlint.cache import INDEX_NAME, Cache, StatIndex
from bnlint.config import Config
from bnlint.engine import RunStats, lint_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))
PLAIN = "import os\n\nprint(os.getcwd())\n"  # no rule can fire: the pre-filter rules it out


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i, path in enumerate(EXAMPLES):
        (src / f"{i:02d}_{path.name}").write_bytes(path.read_bytes())
    for i in range(3):
        (src / f"plain_{i}.py").write_text(PLAIN)
    return src


@pytest.fixture
def not_racy(monkeypatch):
    """Files written by the test a moment ago count as settled."""
    monkeypatch.setattr(cache_mod, "RACY_SECONDS", 0)


def run(tree: Path, cache_dir, use_cache=True):
    stats = RunStats()
    files = sorted(str(p) for p in tree.glob("*.py"))
    results = lint_paths(files, Config(), jobs=1, use_cache=use_cache, cache_dir=str(cache_dir), stats=stats)
    return [f.to_dict() for r in results for f in r.findings], stats


def counting_reads(monkeypatch):
    reads = []
    real = engine.read_file

    def read_file(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(engine, "read_file", read_file)
    return reads


def test_a_warm_run_reads_no_unchanged_file(tree, tmp_path, not_racy, monkeypatch):
    want, _ = run(tree, tmp_path / "nocache", use_cache=False)
    first, stats = run(tree, tmp_path / "cache")
    assert first == want and stats.parsed > 0
    reads = counting_reads(monkeypatch)
    again, stats = run(tree, tmp_path / "cache")
    assert again == want
    assert reads == []
    assert stats.parsed == 0 and stats.skipped == 3 and stats.cached + stats.skipped == stats.files


def test_an_edit_that_keeps_size_and_mtime_is_seen(tree, tmp_path, not_racy):
    run(tree, tmp_path / "cache")
    target = sorted(tree.glob("*_bn001_gradient_tape.py"))[0]
    before = target.stat()
    text = target.read_text()
    assert "logits = model(images)" in text
    target.write_text(text.replace("logits = model(images)", "logits = images * 1.00"))  # 22 bytes each
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime as it was; ctime moves
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    got, stats = run(tree, tmp_path / "cache")
    want, _ = run(tree, tmp_path / "nocache", use_cache=False)
    assert got == want and stats.parsed == 1


def test_a_touched_file_is_hashed_and_still_a_hit(tree, tmp_path, not_racy, monkeypatch):
    want, _ = run(tree, tmp_path / "cache")
    target = sorted(tree.glob("*_bn002_subclass_call.py"))[0]
    os.utime(target, ns=(1, 10**18))  # new mtime, same bytes
    reads = counting_reads(monkeypatch)
    got, stats = run(tree, tmp_path / "cache")
    assert got == want and reads == [str(target)] and stats.parsed == 0


def test_a_file_changed_just_before_it_was_read_is_read_again(tree, tmp_path, monkeypatch):
    """Within RACY_SECONDS of an edit the same stat could hide a second
    edit in the same timestamp tick, so the index keeps no stat for it."""
    monkeypatch.setattr(cache_mod, "RACY_SECONDS", 10**6)  # every file here is that recent
    want, _ = run(tree, tmp_path / "cache")
    index = StatIndex.load(Cache(str(tmp_path / "cache"), Config()))
    assert index.files and all(sig is None for sig, _digest in index.files.values())
    reads = counting_reads(monkeypatch)
    got, stats = run(tree, tmp_path / "cache")
    assert got == want and len(reads) == len(list(tree.glob("*.py"))) and stats.parsed == 0


def _forge_all_skipped(cache_dir: Path, tree: Path, secret: bytes) -> None:
    """An index under another secret saying every file is unchanged and
    ruled out by the pre-filter (which would hide every finding)."""
    forger = Cache(str(cache_dir), Config(), secret=secret)
    index = StatIndex(forger)
    for p in tree.glob("*.py"):
        digest = __import__("hashlib").sha256(p.read_bytes()).hexdigest()
        index.files[str(p)] = [cache_mod.stat_signature(p.stat()), digest]
        index.add_skip(forger.key_for(str(p), digest))
    index.save()


@pytest.mark.parametrize("damage", ["truncated", "bit-flip", "garbage", "other-secret", "symlink", "fifo"])
def test_a_damaged_or_foreign_index_is_ignored(tree, tmp_path, not_racy, damage):
    cache_dir = tmp_path / "cache"
    want, _ = run(tree, tmp_path / "nocache", use_cache=False)
    assert want
    run(tree, cache_dir)
    target = cache_dir / INDEX_NAME
    raw = target.read_bytes()
    if damage == "truncated":
        target.write_bytes(raw[: len(raw) // 2])
    elif damage == "bit-flip":  # a digest in the payload changes: the MAC no longer holds
        i = raw.index(b'"files"')
        target.write_bytes(raw[:i] + raw[i:].replace(b"0", b"1", 1))
    elif damage == "garbage":
        target.write_bytes(os.urandom(256))
    elif damage == "other-secret":
        for p in cache_dir.rglob("*.json"):
            p.unlink()  # no findings entries either: only the forged index speaks
        target.unlink()
        _forge_all_skipped(cache_dir, tree, secret=b"f" * 32)
    elif damage == "symlink":
        target.unlink()
        target.symlink_to("/dev/zero")
    elif damage == "fifo":
        target.unlink()
        os.mkfifo(target)
    got, _ = run(tree, cache_dir)
    assert got == want
    if damage in ("truncated", "bit-flip", "garbage", "other-secret"):
        again, stats = run(tree, cache_dir)  # the index was rewritten whole
        assert again == want and stats.parsed == 0


def test_a_changed_sibling_module_is_seen(tmp_path, not_racy):
    """A cached result depends on the sibling it read (stat first, then hash)."""
    from test_project_modules import PLAIN as NO_BN, TRAIN, WITH_BN

    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "plainnet.py").write_text(WITH_BN)
    (proj / "train.py").write_text(TRAIN.format(module="plainnet"))
    files = [str(proj / "train.py")]  # the sibling is read, not linted

    def once(use_cache=True):
        results = lint_paths(files, Config(), jobs=1, use_cache=use_cache, cache_dir=str(tmp_path / "c"))
        return [f.code for r in results for f in r.findings]

    assert once() == ["BN001"] and once() == ["BN001"]
    (proj / "plainnet.py").write_text(NO_BN)
    assert once(use_cache=False) == [] and once() == []


_WARM = """
import sys
from bnlint import cache, cli
cache.RACY_SECONDS = 0
rc = cli.main(["check", sys.argv[1], "--cache-dir", sys.argv[2], "--output-format", "json", "-q", "-j", "1"])
heavy = sorted(m for m in sys.modules if m.startswith(("bnlint.rules", "bnlint.semantic", "libcst", "bnlint.fixes")))
print(repr(heavy), file=sys.stderr)
sys.exit(rc)
"""


def test_a_warm_run_loads_no_rules_semantic_model_or_libcst(tree, tmp_path):
    cache_dir = str(tmp_path / "cache")

    def cli():
        proc = subprocess.run([sys.executable, "-c", _WARM, str(tree), cache_dir], capture_output=True,
                              timeout=300)  # a hang guard
        assert proc.returncode == 1, proc.stderr.decode()
        return json.loads(proc.stdout), proc.stderr.decode().strip().splitlines()[-1]

    first, loaded = cli()
    assert "'bnlint.rules'" in loaded  # the cold run needed them
    again, loaded = cli()
    assert again == first and loaded == "[]"


def test_an_index_over_its_bound_keeps_only_what_this_run_saw(tree, tmp_path, not_racy, monkeypatch):
    cache_dir = tmp_path / "cache"
    want, _ = run(tree, cache_dir)
    index = StatIndex.load(Cache(str(cache_dir), Config()))
    index.files.update({f"/elsewhere/{i:06d}.py": [None, "0" * 64] for i in range(2000)})
    index.dirty = True
    index.save()
    size = (cache_dir / INDEX_NAME).stat().st_size
    monkeypatch.setattr(cache_mod, "MAX_INDEX_BYTES", size - 1)  # the next save must shrink it
    (tree / "plain_0.py").write_text(PLAIN + "\n")  # something to record
    got, _ = run(tree, cache_dir)
    kept = StatIndex.load(Cache(str(cache_dir), Config())).files
    assert got == want and kept and not any(p.startswith("/elsewhere/") for p in kept)


def test_a_file_ruled_out_by_its_siblings_is_seen_when_one_changes(tmp_path, not_racy, monkeypatch):
    """The pre-filter rules model.py out because ops.py (which it imports)
    never builds batch norm; that decision is kept with ops.py's digest and
    the absent candidates it looked for, so a changed or new module counts."""
    from test_stage1_siblings import MODEL, OPS

    no_bn = OPS.replace("tf.layers.batch_normalization(x, training=train)", "x")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "ops.py").write_text(no_bn)
    (proj / "model.py").write_text(MODEL.format(imp="import ops", call="ops.bn"))
    (proj / "model2.py").write_text(MODEL.format(imp="import ops2", call="ops2.bn"))  # not there yet
    files = [str(proj / "model.py"), str(proj / "model2.py")]
    config = Config(keras="2", select=("BN003",))

    def once():
        stats = RunStats()
        results = lint_paths(files, config, jobs=1, cache_dir=str(tmp_path / "c"), stats=stats)
        return [(Path(r.filename).name, f.code) for r in results for f in r.findings], stats

    found, stats = once()
    assert found == [] and stats.skipped == 2 and stats.parsed == 0
    reads = counting_reads(monkeypatch)
    found, stats = once()
    assert found == [] and reads == [] and stats.skipped == 2  # kept: nothing read again
    (proj / "ops.py").write_text(OPS)  # now it builds batch norm
    assert once()[0] == [("model.py", "BN003")]
    (proj / "ops2.py").write_text(OPS)  # a module that was looked for appears
    assert once()[0] == [("model.py", "BN003"), ("model2.py", "BN003")]
