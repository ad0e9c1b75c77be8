"""A cached run gives what a `--no-cache` run gives, whatever changed
between the two: the file, where it is, what it points to, its sibling
modules, the folders and root markers that decide where siblings are
looked for. Each test compares a warm run with a `--no-cache` run of the
same tree; each input is the smallest one that showed a difference."""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint import cache as cache_mod
from bnlint.config import Config
from bnlint.engine import RunStats, lint_bytes, lint_paths
from fuzz_harness import every_rule
from test_project_modules import PLAIN as NO_BN, TRAIN, WITH_BN
from test_stage1_siblings import MODEL, OPS

BN003 = Config(keras="2", select=("BN003",))
NO_OPS = OPS.replace("tf.layers.batch_normalization(x, training=train)", "x")


@pytest.fixture
def not_racy(monkeypatch):
    """Files written by the test a moment ago count as settled."""
    monkeypatch.setattr(cache_mod, "RACY_SECONDS", 0)


def both(files, config, cache_dir, stats=None):
    """(findings of a cached run, of a --no-cache run): (file name, code) pairs."""
    def once(use_cache):
        results = lint_paths(files, config, jobs=1, use_cache=use_cache, cache_dir=str(cache_dir),
                             stats=stats if use_cache else None)
        return [(r.filename, f.code) for r in results for f in r.findings]
    return once(True), once(False)


def notebook(source) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                                  "outputs": [], "source": source}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_a_root_marker_that_appears_or_goes_is_seen(tmp_path, not_racy):
    """models.py is found one folder up from sub/train.py while sub/ holds
    no project root marker; a sub/setup.py that appears makes sub/ the root
    (models.py is then not the project's), and its removal undoes that."""
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / ".git").mkdir()
    (proj / "plainnet.py").write_text(WITH_BN)
    (proj / "sub" / "train.py").write_text(TRAIN.format(module="plainnet"))
    files = [str(proj / "sub" / "train.py")]
    stats = RunStats()
    assert both(files, Config(), tmp_path / "c") == ([(files[0], "BN001")],) * 2
    assert both(files, Config(), tmp_path / "c", stats) == ([(files[0], "BN001")],) * 2
    assert stats.cached == 1  # a `.git` directory among the dependencies does not stop caching
    (proj / "sub" / "setup.py").write_text("")
    assert both(files, Config(), tmp_path / "c") == ([], [])
    (proj / "sub" / "setup.py").unlink()
    assert both(files, Config(), tmp_path / "c") == ([(files[0], "BN001")],) * 2


def test_the_same_relative_path_from_another_working_directory(tmp_path, monkeypatch, not_racy):
    """`bnlint model.py` in proj/ and in proj/sub/ (one config, one cache
    directory): the same path and bytes, but other files with other
    siblings. The key held only the path as given."""
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n")
    (tmp_path / "sub").mkdir()
    source = MODEL.format(imp="import ops", call="ops.bn")
    for folder, ops in ((tmp_path, NO_OPS), (tmp_path / "sub", OPS)):
        (folder / "ops.py").write_text(ops)
        (folder / "model.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert both(["model.py"], BN003, tmp_path / "c") == ([], [])
    monkeypatch.chdir(tmp_path / "sub")
    assert both(["model.py"], BN003, tmp_path / "c") == ([("model.py", "BN003")],) * 2


def test_a_symlink_pointed_at_another_file_with_the_same_bytes(tmp_path, not_racy):
    source = MODEL.format(imp="import ops", call="ops.bn")
    for name, ops in (("a", NO_OPS), ("b", OPS)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "ops.py").write_text(ops)
        (tmp_path / name / "model.py").write_text(source)
    link = tmp_path / "model.py"
    link.symlink_to(tmp_path / "a" / "model.py")
    assert both([str(link)], BN003, tmp_path / "c") == ([], [])
    link.unlink()
    link.symlink_to(tmp_path / "b" / "model.py")
    assert both([str(link)], BN003, tmp_path / "c") == ([(str(link), "BN003")],) * 2


def test_a_sys_path_folder_is_looked_in_by_the_prefilter(tmp_path, not_racy):
    """`sys.path.append('utils')` then `import ops`: the semantic model
    reads utils/ops.py, so the pre-filter must look there too (it looked
    only next to the file and dropped it: a lost BN003, cached or not);
    a folder that appears later counts like a module that appears."""
    source = MODEL.format(imp="import sys\nsys.path.append('utils')\nimport ops", call="ops.bn")
    train = tmp_path / "train.py"
    train.write_text(source)
    files = [str(train)]
    assert both(files, BN003, tmp_path / "c") == ([], [])
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "ops.py").write_text(OPS)
    assert both(files, BN003, tmp_path / "c") == ([(str(train), "BN003")],) * 2
    with every_rule():  # what the rules find without any pre-filter
        assert [f.code for f in lint_bytes(source.encode(), str(train), BN003)] == ["BN003"]


@pytest.mark.parametrize("lines", [False, True], ids=["one-string source", "source as lines"])
def test_a_notebook_importing_a_package_module_is_linted(tmp_path, lines, not_racy):
    """The pre-filter read a notebook's imports from its raw JSON, where a
    cell's line ends are `\\n` escapes: `from lib import ops\\n",` hid `ops`,
    and a one-string cell hid every import after the first."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("")
    (tmp_path / "lib" / "ops.py").write_text(OPS)
    source = MODEL.format(imp="from lib import ops", call="ops.bn")
    nb = tmp_path / "train.ipynb"
    nb.write_text(notebook(source.splitlines(keepends=True) if lines else source))
    assert [f.code for f in lint_bytes(nb.read_bytes(), str(nb), BN003)] == ["BN003"]
    assert both([str(nb)], BN003, tmp_path / "c") == ([(str(nb), "BN003")],) * 2


def test_a_notebook_ruled_out_by_its_sibling_is_seen_when_it_changes(tmp_path, not_racy):
    """A notebook's cells are filtered after they are joined: the siblings
    that filter read are the cached result's dependencies too."""
    (tmp_path / "ops.py").write_text(NO_OPS)
    nb = tmp_path / "train.ipynb"
    nb.write_text(notebook(MODEL.format(imp="import ops", call="ops.bn")))
    assert both([str(nb)], BN003, tmp_path / "c") == ([], [])
    (tmp_path / "ops.py").write_text(OPS)
    assert both([str(nb)], BN003, tmp_path / "c") == ([(str(nb), "BN003")],) * 2


# -- random edit sequences ------------------------------------------------------
TRAIN_MODELS = TRAIN.format(module="models")
VARIANTS = {  # file -> what it may hold (same-length pairs, so stat-keeping edits happen)
    "train.py": [TRAIN_MODELS, TRAIN.format(module="modelz"), NO_BN],
    "sub/train.py": [TRAIN_MODELS, NO_BN],
    "models.py": [WITH_BN, NO_BN],
    "modelz.py": [WITH_BN, NO_BN],
    "sub/setup.py": [""],
    "nb.ipynb": [notebook(TRAIN_MODELS), notebook(TRAIN_MODELS.splitlines(keepends=True))],
}
LINTED = ["train.py", "sub/train.py", "models.py", "nb.ipynb"]
NAMES = sorted(VARIANTS)

EDITS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.integers(0, 2)),
    st.tuples(st.just("keep-stat"), st.sampled_from(NAMES), st.integers(0, 2)),  # same size, mtime back
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just(0)),
    st.tuples(st.just("symlink"), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("directory"), st.sampled_from(NAMES), st.just(0)),
    st.tuples(st.just("config"), st.just(""), st.integers(0, 3)),  # the next runs' config
)
CONFIGS = [Config(keras="3"), Config(keras="2"), Config(select=("ALL",)),
           Config(per_file_ignores=(("train.py", ("BN001",)),))]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _edit(root: Path, edit) -> None:
    kind, name, arg = edit
    path = root / name
    if kind in ("write", "keep-stat"):
        text = VARIANTS[name][arg % len(VARIANTS[name])]
        old = path.stat() if kind == "keep-stat" and path.is_file() and not path.is_symlink() else None
        if old is not None:
            same = [v for v in VARIANTS[name] if len(v.encode()) == old.st_size]
            text = same[arg % len(same)] if same else text
            path.write_text(text)  # same inode, same size
            os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
            return
        _remove(path)
        path.write_text(text)
    elif kind == "delete":
        _remove(path)
    elif kind == "symlink":
        _remove(path)
        path.symlink_to(root / arg)
    else:
        _remove(path)
        path.mkdir()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDITS, min_size=1, max_size=6))
def test_any_edit_sequence_gives_the_no_cache_answer(edits):
    saved = cache_mod.RACY_SECONDS
    cache_mod.RACY_SECONDS = 0  # trust every stat: the signature alone must tell each edit
    root = Path(tempfile.mkdtemp())
    try:
        (root / ".git").mkdir()
        (root / "sub").mkdir()
        for name in ("train.py", "sub/train.py", "models.py", "nb.ipynb"):
            (root / name).write_text(VARIANTS[name][0])
        files = [str(root / name) for name in LINTED]
        config = CONFIGS[0]
        for edit in [None] + edits:
            if edit is not None and edit[0] == "config":
                config = CONFIGS[edit[2]]
                if config.per_file_ignores:
                    config = Config(per_file_ignores=config.per_file_ignores, root=str(root))
            elif edit is not None:
                _edit(root, edit)
            warm, cold = both(files, config, root / ".cache")
            assert warm == cold, edit
            time.sleep(0.02)  # the next edit's ctime is a later clock tick than this run's reads
    finally:
        cache_mod.RACY_SECONDS = saved
        shutil.rmtree(root, ignore_errors=True)


def test_a_sibling_saved_while_the_run_reads_it_is_not_recorded(tmp_path, monkeypatch):
    """An editor saves plainnet.py after the rules read it and before the
    entry was written: the entry held the new bytes' digest with the old
    bytes' finding, so every later warm run kept a BN001 that is gone. A
    dependency changed less than RACY_SECONDS before the run began, or
    during it, is not recorded (the next run checks the file again)."""
    from bnlint import engine

    (tmp_path / "plainnet.py").write_text(WITH_BN)
    (tmp_path / "train.py").write_text(TRAIN.format(module="plainnet"))
    files = [str(tmp_path / "train.py")]
    real = engine._lint_guarded

    def lint_then_save(*args, **kwargs):
        result = real(*args, **kwargs)
        (tmp_path / "plainnet.py").write_text(NO_BN)  # the save lands between the read and the put
        return result

    monkeypatch.setattr(engine, "_lint_guarded", lint_then_save)
    first = lint_paths(files, Config(), jobs=1, cache_dir=str(tmp_path / "c"))
    assert [f.code for r in first for f in r.findings] == ["BN001"]  # what the rules read
    monkeypatch.setattr(engine, "_lint_guarded", real)
    assert both(files, Config(), tmp_path / "c") == ([], [])


# -- bounded: the cache does not grow with every edit ------------------------------
def _entry_files(cache_dir: Path):
    return sorted(p for p in cache_dir.glob("?/*.json") if not p.parent.is_symlink() and not p.is_symlink())


def test_each_edit_of_a_file_does_not_add_an_entry_for_good(tmp_path, not_racy):
    """Every version of an edited file left an entry (and every version of
    a ruled-out file a skip) for ever; now a path keeps its
    MAX_KEYS_PER_PATH newest and the older ones are deleted."""
    train, plain = tmp_path / "train.py", tmp_path / "plain.py"
    (tmp_path / "plainnet.py").write_text(WITH_BN)
    files = [str(train), str(plain)]
    for i in range(3 * cache_mod.MAX_KEYS_PER_PATH):
        train.write_text(TRAIN.format(module="plainnet") + f"# version {i}\n")
        plain.write_text(NO_BN.replace("tensorflow", "os") + f"# version {i}\n")
        warm, cold = both(files, Config(), tmp_path / "c")
        assert warm == cold == [(str(train), "BN001")]
    index = cache_mod.StatIndex.load(cache_mod.Cache(str(tmp_path / "c"), Config()))
    assert len(_entry_files(tmp_path / "c")) == cache_mod.MAX_KEYS_PER_PATH
    assert len(index.skips) == cache_mod.MAX_KEYS_PER_PATH
    assert both(files, Config(), tmp_path / "c") == ([(str(train), "BN001")],) * 2


def test_a_sweep_deletes_what_no_path_keeps_and_follows_no_link(tmp_path, not_racy, monkeypatch):
    monkeypatch.setattr(cache_mod, "SWEEP_EVERY", 1)
    monkeypatch.setattr(cache_mod, "SWEEP_AGE_SECONDS", 0)
    (tmp_path / "plainnet.py").write_text(WITH_BN)
    train = tmp_path / "train.py"
    train.write_text(TRAIN.format(module="plainnet"))
    cache_dir = tmp_path / "c"
    both([str(train)], Config(), cache_dir)
    kept = _entry_files(cache_dir)
    assert len(kept) == 1
    orphan = cache_dir / "a" / ("ab" + "0" * 62 + ".json")  # a path linted once, long gone
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_text("{}")
    outside = tmp_path / "precious.json"
    outside.write_text("keep me")
    (cache_dir / "c").symlink_to(tmp_path, target_is_directory=True)  # a shard that is a link
    link = cache_dir / "a" / ("cd" + "1" * 62 + ".json")
    link.symlink_to(outside)
    train.write_text(TRAIN.format(module="plainnet") + "# edited\n")  # a put, so a sweep
    assert both([str(train)], Config(), cache_dir) == ([(str(train), "BN001")],) * 2
    assert not orphan.exists() and not link.is_symlink() and outside.read_text() == "keep me"
    assert len(_entry_files(cache_dir)) == 2  # the two versions of train.py


@pytest.mark.parametrize("path", ["f.py", "a/b/c/f.py", "a/b/l/y/f.py", "a/b/l/y/up/a/f.py", "ab/c/f.py",
                                  "./ab/../a/f.py", "x/y/up/x/y/up/ab/l/f.py", "a/./b//f.py", "loop/f.py",
                                  "ab/c/link.py"])
def test_the_real_path_in_the_key_is_os_realpath(tmp_path, monkeypatch, path):
    """key_for's real path is found one folder at a time (a memo per run):
    through links to folders, `..` after a link, a link loop, a linked file."""
    monkeypatch.chdir(tmp_path)
    os.makedirs("a/b/c")
    os.makedirs("x/y")
    os.symlink(tmp_path / "x", "a/b/l")
    os.symlink("../..", "x/y/up")
    os.symlink("a/b", "ab")
    os.symlink("loop", "loop")
    os.symlink("../../../x/y/f.py", "a/b/c/link.py")
    folders: dict = {}
    for _ in range(2):  # cold memo, then warm
        assert cache_mod._real_path(path, folders) == os.path.realpath(path)
        assert cache_mod._real_path(str(tmp_path / path), folders) == os.path.realpath(tmp_path / path)


def test_a_key_dropped_from_the_index_is_never_a_path(tmp_path):
    """keep() deletes the entry files of the keys it drops; a key that is
    not 64 hex digits (an index written by a bnlint with a bug) names no
    file, so nothing outside the shards can be deleted."""
    victim = tmp_path / "victim.json"
    victim.write_text("keep me")
    cache = cache_mod.Cache(str(tmp_path / "c" / "d"), Config())
    (tmp_path / "c" / "d").mkdir(parents=True)
    index = cache.open_index()
    index.keys["a.py"] = ["../victim"] + ["f" * 64] * 3  # c/d/../../victim.json
    for i in range(cache_mod.MAX_KEYS_PER_PATH):
        index.keep("a.py", f"{i:064x}")
    assert victim.read_text() == "keep me" and len(index.keys["a.py"]) == cache_mod.MAX_KEYS_PER_PATH
