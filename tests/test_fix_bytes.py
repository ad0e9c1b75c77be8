"""Fixes never lose or change a byte outside their edit: every line ending
(\\n, \\r\\n, a lone \\r, mixed, none at the end), every encoding that
round-trips and nothing written for one that does not, stdin in its own
encoding, the file's identity (symlinks, read-only, hard links, owner,
xattrs), and no temp file left by SIGTERM or, after the next run, SIGKILL."""

import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.config import Config
from bnlint.engine import lint_text
from bnlint.fixes.apply import splice
from bnlint.fixes.command import fix_text

KERAS3 = Config(keras="3")

# One program per rule with a safe fix; each line gets its own line ending.
PROGRAMS = {
    "BN001": textwrap.dedent("""\
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
        with tf.GradientTape() as tape:
            y = model(
                x)
        g = tape.gradient(y, model.trainable_variables)"""),
    "BN002": textwrap.dedent("""\
        import keras
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.bn = keras.layers.BatchNormalization()
            def call(self, x):
                # the head
                return self.bn(x)"""),
    "BN003": textwrap.dedent("""\
        import tensorflow.compat.v1 as tf
        net = tf.layers.batch_normalization(x, training=is_training)
        # the train op
        train_op = tf.train.AdamOptimizer().minimize(
            loss)"""),
}
_ENDING = st.sampled_from(["\n", "\r\n", "\r"])


_BREAK = re.compile(r"\r\n|\r|\n")


def _subsequence(small, big):
    rest = iter(big)
    return all(any(b == s for b in rest) for s in small)


def _join(lines, endings, last):
    return "".join(line + end for line, end in zip(lines, endings)) + lines[-1] + last


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=st.sampled_from(sorted(PROGRAMS)), data=st.data(),
       last=st.sampled_from(["", "\n", "\r\n", "\r", "\r\r", "\n\n", "\r\n\r"]))
def test_fixes_keep_every_line_ending(code, data, last):
    lines = PROGRAMS[code].split("\n")
    endings = data.draw(st.lists(_ENDING, min_size=len(lines) - 1, max_size=len(lines) - 1))
    src = _join(lines, endings, last)
    [finding] = [f for f in lint_text(src, "x.py", KERAS3) if f.code == code]
    assert finding.fix is not None and finding.fix.applicability == "safe"
    new = splice(src, finding.fix.edits)
    for e in finding.fix.edits:  # each line break the edit replaces, it writes again, in order
        assert _subsequence(_BREAK.findall(src[e.start:e.end]), _BREAK.findall(e.text)), (e, src)
    if code != "BN003":  # BN001/BN002 only insert: take the text out again, get the source
        assert all(e.start == e.end for e in finding.fix.edits)
        back, shift = new, 0
        for e in sorted(finding.fix.edits, key=lambda e: e.start):
            back = back[:e.start + shift] + back[e.start + shift + len(e.text):]
        assert back == src
    assert new.endswith(last) and _subsequence(_BREAK.findall(src), _BREAK.findall(new))
    compile(new, "x.py", "exec")
    assert not [f for f in lint_text(new, "x.py", KERAS3) if f.code == code]
    out = fix_text(src, "x.py", KERAS3)
    assert out.text == new and not out.broken


def test_cr_only_file_keeps_its_last_cr():
    src = PROGRAMS["BN001"].replace("\n", "\r") + "\r"
    out = fix_text(src, "x.py", KERAS3)
    assert out.text == src.replace("model(\r        x)", "model(\r        x,\r        training=True)")
    [finding] = [f for f in lint_text(src, "x.py", KERAS3) if f.code == "BN001"]
    [edit] = finding.fix.edits
    assert (edit.start, edit.end, edit.text) == (src.index("x)") + 1, src.index("x)") + 1, ",\r        training=True")


def test_cli_fix_of_a_cr_only_file_writes_exact_bytes(bnlint, tmp_path):
    src = PROGRAMS["BN001"].replace("\n", "\r") + "\r"
    f = tmp_path / "train.py"
    f.write_bytes(src.encode())
    r = bnlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f.read_bytes() == src.replace("model(\r        x)", "model(\r        x,\r        training=True)").encode()


# -- encodings: stdin and files -------------------------------------------------
BUGGY = PROGRAMS["BN001"].replace("model(\n        x)", "model(x)") + "\n"
FIXED = BUGGY.replace("model(x)", "model(x, training=True)")


def test_stdin_fix_keeps_latin1_with_its_cookie(bnlint):
    src = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUGGY
    r = bnlint("-", "--fix", "--stdin-filename", "t.py", stdin=src.encode("latin-1"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + FIXED).encode("latin-1")


def test_stdin_fix_keeps_the_bom(bnlint):
    for src in (BUGGY, FIXED):
        data = b"\xef\xbb\xbf" + src.replace("\n", "\r\n").encode()
        r = bnlint("-", "--fix", "--stdin-filename", "t.py", stdin=data)
        assert r.stdout == b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode(), r.stderr


def test_stdin_without_a_fix_is_echoed_byte_for_byte(bnlint):
    inputs = [
        FIXED.encode(),                                  # nothing to fix
        b"\xef\xbb\xbf" + FIXED.encode(),                # BOM, nothing to fix
        b"\xef\xbb\xbf\xef\xbb\xbf" + BUGGY.encode(),   # two BOMs: would lose one
        b"x = '\xff\xfe'\n" + BUGGY.encode(),           # not UTF-8: no U+FFFD
        b"# coding: latin-1\nx = '\xff'\r" + FIXED.encode(),
        b"# coding: unicode_escape\n" + BUGGY.encode(),  # refused
        b"x = 1\x00\n",                                   # binary
        b"",
    ]
    for data in inputs:
        r = bnlint("-", "--fix", "--stdin-filename", "t.py", stdin=data)
        assert r.stdout == data, (data, r.stderr)
        assert b"Traceback" not in r.stderr


@pytest.mark.parametrize("cookie", ["unicode_escape", "raw_unicode_escape", "utf-7"])
def test_encodings_that_do_not_round_trip_are_never_fixed(bnlint, tmp_path, cookie):
    body = BUGGY.replace("import tensorflow as tf", "import tensorflow as tf  # \\u00e9 +AOk-")
    data = f"# coding: {cookie}\n".encode() + body.encode("ascii")
    f = tmp_path / "train.py"
    f.write_bytes(data)
    text = data.decode(cookie, "strict")
    if text.encode(cookie) == data:
        pytest.skip(f"{cookie} gives these bytes back")
    for flags in (["--fix"], ["--fix", "--unsafe-fixes"], ["--diff"]):
        r = bnlint(*flags, "--no-cache", "train.py", cwd=tmp_path)
        assert f.read_bytes() == data
        assert f"train.py: not fixed: {cookie}".encode() in r.stderr.replace(b"utf_7", b"utf-7"), r.stderr
        assert r.returncode == 1 and b"Traceback" not in r.stderr
        if flags == ["--diff"]:
            assert r.stdout == b""


# -- file identity under --fix --------------------------------------------------
def _tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    return tree


def test_symlink_out_of_the_tree_is_not_followed(bnlint, tmp_path):
    tree, outside = _tree(tmp_path), tmp_path / "outside.py"
    outside.write_text(BUGGY)
    (tree / "inside.py").write_text(BUGGY)
    (tree / "link_out.py").symlink_to(outside)
    (tree / "link_in.py").symlink_to(tree / "inside.py")
    for paths in (["."], ["link_out.py"], ["link_out.py", "inside.py"]):
        r = bnlint("--fix", "--no-cache", *paths, cwd=tree)
        assert outside.read_text() == BUGGY, paths
        assert b"link_out.py: not fixed: it is a symlink to " in r.stderr and b"outside the linted tree" in r.stderr
        assert (tree / "link_out.py").is_symlink()
    assert (tree / "inside.py").read_text() == FIXED and (tree / "link_in.py").is_symlink()
    r = bnlint("--diff", "--no-cache", "link_out.py", cwd=tree)  # --diff says what --fix would do
    assert (r.returncode, r.stdout) == (1, b"") and b"not fixed" in r.stderr
    # The tree is what was given: run from elsewhere, the outside file stays outside.
    r = bnlint("--fix", "--no-cache", str(tree), cwd=tmp_path)
    assert outside.read_text() == BUGGY and b"not fixed" in r.stderr


def test_read_only_file_is_skipped_and_said(bnlint, tmp_path):
    tree = _tree(tmp_path)
    f = tree / "train.py"
    f.write_text(BUGGY)
    f.chmod(0o444)
    r = bnlint("--fix", "--no-cache", ".", cwd=tree)
    assert f.read_text() == BUGGY and stat.S_IMODE(f.stat().st_mode) == 0o444
    assert b"train.py: not fixed: the file is read-only" in r.stderr and r.returncode == 1
    assert b"BN001" in r.stdout  # the finding is still reported


def test_mode_owner_and_xattrs_are_kept(bnlint, tmp_path):
    tree = _tree(tmp_path)
    f = tree / "train.py"
    f.write_text(BUGGY)
    f.chmod(0o751)
    owner = (f.stat().st_uid, f.stat().st_gid)
    if os.geteuid() == 0:  # root can give the file away: the fix must give it back
        owner = (12345, 23456)
        os.chown(f, *owner)
    try:
        os.setxattr(f, "user.bnlint_test", b"kept \x00 bytes")
        xattrs = True
    except (OSError, AttributeError):
        xattrs = False
    r = bnlint("--fix", "--no-cache", ".", cwd=tree)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f.read_text() == FIXED
    st = f.stat()
    assert stat.S_IMODE(st.st_mode) == 0o751 and (st.st_uid, st.st_gid) == owner
    if not xattrs:
        pytest.skip("this file system has no user extended attributes")
    assert os.getxattr(f, "user.bnlint_test") == b"kept \x00 bytes"


def test_hard_linked_file_is_not_fixed(bnlint, tmp_path):
    tree = _tree(tmp_path)
    f, other = tree / "train.py", tmp_path / "cache_copy.py"
    f.write_text(BUGGY)
    os.link(f, other)
    r = bnlint("--fix", "--no-cache", ".", cwd=tree)
    assert f.read_text() == other.read_text() == BUGGY
    assert os.path.samefile(f, other)
    assert b"train.py: not fixed: the file has 2 hard links" in r.stderr


def test_write_atomic_refuses_what_fixable_target_refuses(tmp_path):
    from bnlint.fixes.write import NotWritable, write_atomic

    outside, tree = tmp_path / "outside.py", _tree(tmp_path)
    outside.write_bytes(b"x = 1\n")
    (tree / "l.py").symlink_to(outside)
    with pytest.raises(NotWritable):
        write_atomic(str(tree / "l.py"), b"x = 2\n", b"x = 1\n", roots=[str(tree)])
    assert outside.read_bytes() == b"x = 1\n" and sorted(p.name for p in tree.iterdir()) == ["l.py"]


# -- interrupted --fix ------------------------------------------------------------
def _start_slow_fix(tree):
    """A real `bnlint --fix` that waits between writing its temp file and the
    rename (the test hook), and the temp file once it exists."""
    env = dict(os.environ, BNLINT_TEST_WRITE_DELAY="60")
    proc = subprocess.Popen([sys.executable, "-m", "bnlint", "--fix", "--no-cache", "."], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        temps = [p for p in tree.iterdir() if p.name.endswith(".bnlint-tmp")]
        if temps or proc.poll() is not None:
            return proc, temps
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("no temp file appeared")


def test_sigterm_mid_write_leaves_no_temp_file(tmp_path):
    tree = _tree(tmp_path)
    f = tree / "train.py"
    f.write_text(BUGGY)
    proc, temps = _start_slow_fix(tree)
    assert len(temps) == 1 and temps[0].name.startswith(f".train.py.{proc.pid}."), temps
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM
    assert sorted(p.name for p in tree.iterdir()) == ["train.py"] and f.read_text() == BUGGY


def test_sigkill_leftovers_are_swept_by_the_next_fix(bnlint_process, tmp_path):
    # A real process: the sweep must tell this (live) test process's pid from its own.
    bnlint = bnlint_process
    tree = _tree(tmp_path)
    f = tree / "train.py"
    f.write_text(BUGGY)
    proc, [left] = _start_slow_fix(tree)
    proc.kill()
    proc.communicate(timeout=60)
    assert left.exists() and f.read_text() == BUGGY
    legacy = tree / ".train.py.ab_cd123.bnlint-tmp"  # an older version's name, no pid
    legacy.write_text("old")
    past = time.time() - 10
    for p in (left, legacy):
        os.utime(p, (past, past))
    # Never swept: not our exact pattern, newer than the run, a live process's, a symlink.
    keep = {
        ".train.py.bnlint-tmp": None,
        "train.py.ab_cd123.bnlint-tmp": past,
        f".train.py.{os.getpid()}.abcd1234.bnlint-tmp": past,  # this test process is alive
        ".train.py.1.abcd1234.bnlint-tmp": time.time() + 3600,  # not older than the run
    }
    for name, when in keep.items():
        (tree / name).write_text("not ours to remove")
        if when is not None:
            os.utime(tree / name, (when, when))
    (tree / ".x.py.99999999.abcd1234.bnlint-tmp").symlink_to(f)
    r = bnlint("--fix", "--no-cache", ".", cwd=tree)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not left.exists() and not legacy.exists()
    assert f"removed ./{left.name}, left by an interrupted --fix".encode() in r.stderr
    assert all((tree / name).exists() for name in keep) and (tree / ".x.py.99999999.abcd1234.bnlint-tmp").is_symlink()
    assert f.read_text() == FIXED
