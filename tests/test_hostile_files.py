"""Files that try to break bnlint, one test each, through the real CLI.

Every case must end with exit code 0 or 1, at most BN9xx findings for the
hostile file (with a message that says what is wrong), the other files of
the run still checked, and not one byte or mtime changed anywhere. Hostile
files mention GradientTape so that they pass the byte pre-filter and reach
the parsers (files that do not are skipped unread by design, see BN902).
"""

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bnlint.config import Config
from bnlint.engine import read_file

ROOT = Path(__file__).resolve().parent.parent
BUGGY = (ROOT / "examples" / "buggy" / "bn001_gradient_tape.py").read_bytes()
TAPE = b"import tensorflow as tf\nwith tf.GradientTape() as tape:\n"
TIMEOUT = 120


def snapshot(root: Path) -> dict:
    """bytes + mtime of every entry under root (links not followed)."""
    out = {}
    for dirpath, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            body = None
            if os.path.isfile(p) and not os.path.islink(p) and os.access(p, os.R_OK):
                with open(p, "rb") as fh:
                    body = fh.read()
            out[p] = (st.st_mode, st.st_mtime_ns, st.st_size, body)
    return out


def run(root: Path, *targets, preexec=None, extra=(), prefix=()):
    """The CLI on `targets` (relative to root), JSON out; checks the promises."""
    before = snapshot(root)
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "bnlint", "--no-cache", "--output-format", "json", *extra,
         *[os.fsencode(t) for t in targets]],
        cwd=root, capture_output=True, timeout=TIMEOUT, preexec_fn=preexec)
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    assert snapshot(root) == before, "check modified a file"
    return proc, json.loads(proc.stdout)


def only(findings, name):
    return [f for f in findings if os.path.basename(f["filename"]) == name]


def one_meta(findings, name, code, *words):
    """Exactly one finding for `name`, with `code`, naming the problem."""
    got = only(findings, name)
    assert [f["code"] for f in got] == [code], got
    for w in words:
        assert w.lower() in got[0]["message"].lower(), got[0]["message"]
    return got[0]


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "good.py").write_bytes(BUGGY)  # the run must still report this one
    return tmp_path


def assert_good_still_checked(findings):
    assert [f["code"] for f in only(findings, "good.py")] == ["BN001"]


# -- syntax ------------------------------------------------------------------
def test_python2_code(tree):
    (tree / "py2.py").write_bytes(TAPE + b'    print "loss"\n')
    _, found = run(tree, ".")
    f = one_meta(found, "py2.py", "BN902", "cannot parse")
    assert f["line"] == 3
    assert_good_still_checked(found)


def test_unterminated_string(tree):
    (tree / "s.py").write_bytes(TAPE + b'    x = "abc\n')
    (tree / "t.py").write_bytes(TAPE + b'    x = """abc\n\n')
    _, found = run(tree, ".")
    one_meta(found, "s.py", "BN902", "unterminated string")
    one_meta(found, "t.py", "BN902", "unterminated")
    assert_good_still_checked(found)


# -- encodings ---------------------------------------------------------------
def test_declared_encoding_is_wrong(tree):
    (tree / "enc.py").write_bytes(b"# -*- coding: ascii -*-\n" + TAPE + "    n = 'Größe'\n".encode())
    _, found = run(tree, ".")
    one_meta(found, "enc.py", "BN901", "ascii")
    assert_good_still_checked(found)


def test_undecodable_bytes(tree):
    (tree / "bad.py").write_bytes(TAPE + b"    s = '\xff\xfe\xc3('\n")
    _, found = run(tree, ".")
    one_meta(found, "bad.py", "BN901", "utf-8", "byte")
    assert_good_still_checked(found)


def test_unknown_encoding(tree):
    (tree / "kl.py").write_bytes(b"# coding: klingon\n" + TAPE + b"    pass\n")
    _, found = run(tree, ".")
    one_meta(found, "kl.py", "BN901", "klingon")
    assert_good_still_checked(found)


def test_bom_keeps_positions(tree):
    (tree / "bom.py").write_bytes(b"\xef\xbb\xbf" + BUGGY)
    _, found = run(tree, ".")
    (bom,), (plain,) = only(found, "bom.py"), only(found, "good.py")
    assert (bom["code"], bom["line"], bom["column"]) == (plain["code"], plain["line"], plain["column"])


def test_bom_contradicting_the_coding_line(tree):
    (tree / "bomlatin.py").write_bytes(b"\xef\xbb\xbf# coding: latin-1\n" + TAPE + b"    pass\n")
    _, found = run(tree, ".")
    one_meta(found, "bomlatin.py", "BN901", "encoding")
    assert_good_still_checked(found)


def test_nul_bytes(tree):
    (tree / "nul.py").write_bytes(TAPE + b"    x = 1\x00\x00\n")
    _, found = run(tree, ".")
    one_meta(found, "nul.py", "BN901", "NUL")
    assert_good_still_checked(found)


# -- size and depth ----------------------------------------------------------
def test_ten_megabyte_file(tree):
    line = b"    y = model(x, training=True)  # padding padding padding\n"
    (tree / "big.py").write_bytes(TAPE + line * (10 * 2**20 // len(line)))
    (tree / "big_plain.py").write_bytes(b"x = 1  # no rule's names here\n" * 400_000)
    start = time.monotonic()
    _, found = run(tree, ".")
    assert time.monotonic() - start < 60
    one_meta(found, "big.py", "BN904", "MiB")
    assert only(found, "big_plain.py") == []
    assert_good_still_checked(found)


def _memory_limit(size: int = 1024 ** 3):
    """RLIMIT_AS for the CLI: a blow-up fails the test, not the machine."""
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _padded(size: int, at: int = 0) -> bytes:
    """About `size` bytes of plain code with a GradientTape block whose
    `GradientTape` starts at byte `at` (after one long comment line)."""
    filler = b"x=1\n"  # short statements: the most AST per byte
    lead = b"import tensorflow as tf\nwith tf."
    head = b"#" + b"p" * (at - len(lead) - 2) + b"\n" if at else b""
    body = head + lead + b"GradientTape() as tape:\n    y = model(x)\n"
    return body + filler * ((size - len(body)) // len(filler) + 1)


def test_twenty_megabytes_are_refused_before_parsing(tree):
    """20 MB took 33 s and 6.8 GB before being called too large: now the
    size is known from fstat, the file is never read whole, nothing parses
    it; under a 1 GB address-space limit (before: 1.35 GB peak RSS, 18 s)."""
    (tree / "huge.py").write_bytes(_padded(20 * 2**20))
    _, found = run(tree, ".", preexec=_memory_limit())
    one_meta(found, "huge.py", "BN904", "20 MiB", "8 MiB")
    assert_good_still_checked(found)


def test_oversized_file_name_cut_by_a_window_edge(tree):
    """The pre-filter reads an oversized file in 8 MiB windows that overlap:
    a name straddling the first edge is still seen (BN904, not skipped)."""
    (tree / "edge.py").write_bytes(_padded(12 * 2**20, at=8 * 2**20 - 6))
    data = (tree / "edge.py").read_bytes()
    assert data.index(b"GradientTape") < 8 * 2**20 < data.index(b"GradientTape") + 12
    _, found = run(tree, ".")
    one_meta(found, "edge.py", "BN904", "MiB")


def _notebook(code: str, output: str = "") -> bytes:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": code,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": output}] if output else []}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_notebook_with_too_much_code(tree):
    """The cells' code is held to the 8 MiB limit like a .py file."""
    (tree / "nb.ipynb").write_bytes(_notebook(_padded(10 * 2**20).decode()))
    _, found = run(tree, ".", preexec=_memory_limit())
    one_meta(found, "nb.ipynb", "BN904", "MiB")
    assert_good_still_checked(found)


def test_notebook_file_over_its_limit_is_not_loaded(tree):
    """A notebook file may be larger (outputs), up to 64 MiB; past that it is
    BN904 without being read whole. A small one with big outputs is linted."""
    code = BUGGY.decode()
    (tree / "big.ipynb").write_bytes(_notebook(code, "o" * (70 * 2**20)))
    (tree / "outputs.ipynb").write_bytes(_notebook(code, "o" * (12 * 2**20)))
    _, found = run(tree, ".", preexec=_memory_limit())
    one_meta(found, "big.ipynb", "BN904", "64 MiB")
    assert [f["code"] for f in only(found, "outputs.ipynb")] == ["BN001"]


@pytest.mark.parametrize("mode", ["check", "fix"])
def test_stdin_over_the_limit(tmp_path, mode):
    """`bnlint -` reads at most the limit + 1 byte; `--fix -` then passes the
    input through unchanged, streamed."""
    data = _padded(20 * 2**20)
    extra = ["--fix"] if mode == "fix" else []
    proc = subprocess.run([sys.executable, "-m", "bnlint", "--no-cache", *extra, "-"], input=data,
                          cwd=tmp_path, capture_output=True, timeout=TIMEOUT, preexec_fn=_memory_limit())
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in proc.stderr
    if mode == "fix":
        assert proc.stdout == data
        assert b"BN904" in proc.stderr and b"8 MiB limit" in proc.stderr
    else:
        assert proc.stdout.startswith(b"-:1:1: BN904 ") and b"8 MiB limit" in proc.stdout


@pytest.mark.parametrize("shape", ["parens", "blocks", "chain", "attributes", "calls"])
def test_thousand_deep_nesting(tree, shape):
    n = 1000
    body = {
        "parens": b"    y = model(" + b"(" * n + b"x" + b")" * n + b")\n",
        "blocks": b"".join(b"    " + b" " * i + b"if x:\n" for i in range(n)) + b" " * (n + 4) + b"pass\n",
        "chain": b"    y = model(x" + b" + x" * n + b")\n",
        "attributes": b"    y = model(x" + b".a" * n + b")\n",
        "calls": b"    y = model(f" + b"(x)" * n + b")\n",
    }[shape]
    (tree / "deep.py").write_bytes(TAPE + body)
    _, found = run(tree, ".")
    got = only(found, "deep.py")
    assert all(f["code"] == "BN902" for f in got) and len(got) <= 1, got
    if got:
        msg = got[0]["message"].lower()
        assert "deep" in msg or "nest" in msg or "indentation" in msg or "parenthes" in msg, msg
    assert_good_still_checked(found)


# -- line endings ------------------------------------------------------------
def test_crlf_and_mixed_line_endings(tree):
    lines = BUGGY.split(b"\n")
    (tree / "crlf.py").write_bytes(b"\r\n".join(lines))
    mixed = b"".join(line + (b"\r\n", b"\n", b"\r")[i % 3] for i, line in enumerate(lines))
    (tree / "mixed.py").write_bytes(mixed)
    _, found = run(tree, ".")
    want = [(f["code"], f["line"], f["column"]) for f in only(found, "good.py")]
    for name in ("crlf.py", "mixed.py"):
        assert [(f["code"], f["line"], f["column"]) for f in only(found, name)] == want, name


# -- the file system ---------------------------------------------------------
def test_symlink_loop(tree):
    os.symlink("loop_b.py", tree / "loop_a.py")
    os.symlink("loop_a.py", tree / "loop_b.py")
    os.symlink("missing.py", tree / "dangling.py")
    _, found = run(tree, ".")
    one_meta(found, "loop_a.py", "BN901", "symbolic links")
    one_meta(found, "loop_b.py", "BN901", "symbolic links")
    one_meta(found, "dangling.py", "BN901", "no such file")
    assert_good_still_checked(found)
    _, found = run(tree, "loop_a.py", "good.py")  # given explicitly
    one_meta(found, "loop_a.py", "BN901", "symbolic links")
    assert_good_still_checked(found)


# Root reads a chmod 000 file. setpriv (util-linux) drops the two
# capabilities that let it, so the child meets the EACCES a user would.
NO_DAC = ("setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search")


def test_unreadable_file(tree):
    secret = tree / "secret.py"
    secret.write_bytes(TAPE + b"    y = model(x)\n")
    os.chmod(secret, 0)
    prefix = ()
    if os.geteuid() == 0:
        probe = subprocess.run([*NO_DAC, "cat", str(secret)], capture_output=True)
        if probe.returncode == 0 or b"ermission denied" not in probe.stderr:
            pytest.skip("running as root and setpriv cannot drop CAP_DAC_OVERRIDE here, "
                        "so no file is unreadable")
        prefix = NO_DAC
    try:
        _, found = run(tree, ".", prefix=prefix)
        one_meta(found, "secret.py", "BN901", "permission denied")
        assert_good_still_checked(found)
    finally:
        os.chmod(secret, 0o644)


def test_fifo_does_not_block(tree):
    os.mkfifo(tree / "pipe.py")
    _, found = run(tree, ".")
    one_meta(found, "pipe.py", "BN901", "not a regular file")
    _, found = run(tree, "pipe.py", "good.py")
    one_meta(found, "pipe.py", "BN901", "not a regular file")
    assert_good_still_checked(found)


def test_directory_named_like_a_python_file(tree):
    (tree / "x.py").mkdir()
    (tree / "x.py" / "inner.py").write_bytes(BUGGY)
    _, found = run(tree, ".")
    assert [f["code"] for f in only(found, "inner.py")] == ["BN001"]
    assert only(found, "x.py") == []
    data, problem = read_file(str(tree / "x.py"))  # the API, given the directory as a file
    assert data is None and problem.code == "BN901" and "directory" in problem.message


def test_non_utf8_file_name(tree):
    name = b"caf\xe9_\xff.py"
    with open(os.path.join(os.fsencode(tree), name), "wb") as fh:
        fh.write(BUGGY)
    proc, found = run(tree, ".")
    assert proc.returncode == 1
    odd = [f for f in found if f["filename"] != "good.py" and not f["filename"].endswith("/good.py")]
    assert [f["code"] for f in odd] == ["BN001"], found
    text = subprocess.run([sys.executable, "-m", "bnlint", "--no-cache", "."], cwd=tree,
                          capture_output=True, timeout=TIMEOUT)
    assert text.returncode == 1 and b"caf\\udce9" in text.stdout or b"caf\\xe9" in text.stdout


def test_everything_at_once(tree):
    """All of the above in one directory run: one finding each, nothing lost."""
    (tree / "py2.py").write_bytes(TAPE + b'    print "x"\n')
    (tree / "nul.py").write_bytes(TAPE + b"\x00\n")
    (tree / "enc.py").write_bytes(b"# coding: ascii\n" + TAPE + "    n = 'ß'\n".encode())
    os.symlink("self.py", tree / "self.py")
    os.mkfifo(tree / "fifo.py")
    (tree / "dir.py").mkdir()
    for i in range(8):  # enough candidates for the process pool
        (tree / f"ok{i}.py").write_bytes(BUGGY)
    _, found = run(tree, ".")
    for name, code in (("py2.py", "BN902"), ("nul.py", "BN901"), ("enc.py", "BN901"),
                       ("self.py", "BN901"), ("fifo.py", "BN901")):
        assert [f["code"] for f in only(found, name)] == [code], name
    for i in range(8):
        assert [f["code"] for f in only(found, f"ok{i}.py")] == ["BN001"]
    assert_good_still_checked(found)


# -- regular expressions on hostile text (tests/test_regex_linear.py has every pattern)
def test_blank_run_after_from_in_a_candidate(tree):
    """The pre-filter's import regex was cubic in a run of blanks after
    `from` (4 KB took 22 s of CPU); 16 KB would take hours. TIMEOUT is the
    hang guard."""
    (tree / "blanks.py").write_bytes(b"def call(self):\n    pass\n# from" + b" " * 16_000 + b"x\n")
    _, found = run(tree, ".")
    assert only(found, "blanks.py") == []
    assert_good_still_checked(found)


def test_blank_run_after_the_legacy_keras_variable(tree):
    """flavour.py's TF_USE_LEGACY_KERAS regex was quadratic (32 KB: 4.8 s)."""
    (tree / "env.py").write_bytes(BUGGY + b"# TF_USE_LEGACY_KERAS" + b" " * 256_000 + b"x\n")
    _, found = run(tree, ".")
    assert [f["code"] for f in only(found, "env.py")] == ["BN001"]
    assert_good_still_checked(found)


# -- worker processes --------------------------------------------------------
def _heavy(n_blocks: int) -> bytes:
    block = b"with tf.GradientTape() as tape:\n    y = model(x)\n    z = layer(y) + other(y)\n"
    return b"import tensorflow as tf\n" + block * n_blocks


def _cpu_limit(seconds: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, resource.RLIM_INFINITY))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def test_worker_killed_by_cpu_limit_is_bn903(tree):
    """`ulimit -t 2` (RLIMIT_CPU), as in a CI sandbox: the worker that parses
    a huge file gets SIGXCPU and dies, and so does its isolated rerun. That
    file gets BN903; every other file is checked; the run ends normally."""
    for i in range(9):
        (tree / f"small{i}.py").write_bytes(BUGGY)
    (tree / "huge.py").write_bytes(_heavy(25_000))  # ~2 MB: many seconds of libcst
    proc, found = run(tree, ".", preexec=_cpu_limit(2), extra=("-j", "2"))
    assert proc.returncode == 1
    one_meta(found, "huge.py", "BN903", "worker process", "died")
    for i in range(9):
        assert [f["code"] for f in only(found, f"small{i}.py")] == ["BN001"]
    assert_good_still_checked(found)


def _descendants(pid: int):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    kids = [int(c) for c in fh.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs /proc to find the workers")
def test_worker_killed_by_a_signal_is_rechecked(tree):
    """SIGKILL one worker mid-run (what the OOM killer does): its files are
    rechecked in fresh processes and the output equals an undisturbed run."""
    # 8 files (the pool's minimum) of ~0.7 s each: the kill 0.3 s after the
    # workers start lands mid-file with files still queued.
    for i in range(7):
        (tree / f"mid{i}.py").write_bytes(_heavy(200) + BUGGY)
    cmd = [sys.executable, "-m", "bnlint", "--no-cache", "--output-format", "json", "-j", "2", "."]
    clean = subprocess.run(cmd, cwd=tree, capture_output=True, timeout=TIMEOUT)
    before = snapshot(tree)
    proc = subprocess.Popen(cmd, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = []

    def killer():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and not killed:
            kids = _descendants(proc.pid)
            if kids:
                time.sleep(0.3)  # let it start on a file
                os.kill(kids[0], signal.SIGKILL)
                killed.append(kids[0])
            time.sleep(0.02)

    t = threading.Thread(target=killer)
    t.start()
    out, err = proc.communicate(timeout=TIMEOUT)
    t.join()
    assert killed, "no worker process was seen"
    assert proc.returncode == clean.returncode == 1, err.decode(errors="replace")
    assert json.loads(out) == json.loads(clean.stdout)
    assert snapshot(tree) == before
