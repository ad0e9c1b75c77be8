"""Writing a fixed file back: same encoding, BOM and line endings (the
edits keep them), same mode, owner and extended attributes, and
atomically, so an interrupted run leaves either the old file or the new
one, never half of each.

What is not written (NotWritable, said per file): a file reached through a
symlink whose target is outside the linted tree, a read-only file (no write
bit, or no write access), a file with more than one hard link (a rename
would break the link and writing in place is not atomic and would change
every other name too, e.g. a package cache conda links into environments),
and a file whose owner or extended attributes the new copy cannot keep.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import signal
import stat
import tempfile
import threading
import time
import tokenize
from typing import Iterable, Iterator, List, Optional, Set


# Temp files are `.NAME.PID.XXXXXXXX.bnlint-tmp` (XXXXXXXX: tempfile's 8
# random characters) next to NAME; older versions wrote `.NAME.XXXXXXXX.bnlint-tmp`.
TEMP_SUFFIX = ".bnlint-tmp"
# \A: used with match(); anchored, no search can make it quadratic (tests/test_regex_linear.py).
_TEMP_NAME = re.compile(r"\A\.(?P<name>.+?)\.(?:(?P<pid>[0-9]+)\.)?[a-z0-9_]{8}\.bnlint-tmp\Z")
# Test hook: seconds to wait between writing a temp file and renaming it,
# so a test can kill a run mid-write. Unset in normal use.
_DELAY_ENV = "BNLINT_TEST_WRITE_DELAY"
# Temp files this process is writing now (removed on SIGTERM/SIGHUP).
_LIVE: Set[str] = set()
_PREVIOUS: dict = {}  # signal -> the handler cleanup_on_signals replaced
_CLEANUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class ChangedOnDisk(Exception):
    """The file changed between reading and writing; it is left alone."""


class NotWritable(Exception):
    """The file is left as it is, for a reason about the file itself (the
    message says which: symlink out of the tree, read-only, hard links,
    owner or extended attributes that cannot be kept)."""


class EncodingLoses(Exception):
    """The file's encoding does not give its bytes back: decoding and
    encoding again changes them (`unicode_escape` writes a newline as the
    two characters `\\n`), or the fixed text cannot be encoded. The file
    is not fixed."""


_BOM = b"\xef\xbb\xbf"


def source_encoding(data: bytes) -> str:
    """The PEP 263 encoding of `data` (cookie or BOM; UTF-8 by default).
    Raises SyntaxError for a bad or conflicting declaration."""
    return tokenize.detect_encoding(io.BytesIO(data).readline)[0]


def encode_like(text: str, original: bytes) -> bytes:
    """`text` encoded as `original` was (PEP 263 cookie or UTF-8, with its
    BOM). Raises EncodingLoses when the result does not decode back to
    `text` (or `text` has a character the encoding lacks)."""
    encoding = source_encoding(original)
    try:
        data = text.encode(encoding)
        back = data.decode(encoding)
    except (UnicodeError, LookupError) as exc:
        raise EncodingLoses(f"cannot encode the fixed text as {encoding}: {exc}") from None
    if back != text:
        raise EncodingLoses(f"{encoding} does not decode back to the text it encodes")
    if original.startswith(_BOM) and not data.startswith(_BOM):
        data = _BOM + data
    return data


def check_round_trip(original: bytes, text: str) -> None:
    """Raise EncodingLoses unless `text` (what `original` decoded to, BOM
    dropped) encodes back to exactly `original`: only then does writing a
    fix change nothing but the fix."""
    if encode_like(text, original) != original:
        raise EncodingLoses(f"{source_encoding(original)} does not give the file's own bytes back "
                            "(decoding and encoding again changes them)")


def tree_roots(given: Iterable[str]) -> List[str]:
    """The linted tree for paths given on the command line: each directory
    given, and the directory of each file given (real paths)."""
    roots = []
    for path in given:
        if path == "-":
            continue
        root = path if os.path.isdir(path) else (os.path.dirname(path) or os.curdir)
        roots.append(os.path.realpath(root))
    return roots


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # another drive, or a mix of absolute and relative
        return False


def fixable_target(path: str, roots: Optional[Iterable[str]] = None) -> str:
    """The real path a fix of `path` writes to; raises NotWritable when it
    must not be written (see the module docstring). `roots`: real paths of
    the linted tree (tree_roots); None means the directory of `path`."""
    real = os.path.realpath(path)
    roots = list(roots) if roots is not None else tree_roots([path])
    if not any(_inside(real, root) for root in roots):
        raise NotWritable(f"it is a symlink to {real}, outside the linted tree")
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise NotWritable("not a regular file")
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
        raise NotWritable("the file is read-only")
    if st.st_nlink > 1:
        raise NotWritable(f"the file has {st.st_nlink} hard links (a fix would break them or change every "
                          "name at once); apply the --diff by hand")
    return real


def _keep_owner(tmp: str, st: os.stat_result) -> None:
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except OSError:
        pass  # without privileges only one's own uid and groups can be set
    got = os.stat(tmp)
    if (got.st_uid, got.st_gid) != (st.st_uid, st.st_gid):
        raise NotWritable(f"cannot keep the owner {st.st_uid}:{st.st_gid}")


def _keep_xattrs(real: str, tmp: str) -> None:
    """Copy `real`'s extended attributes to `tmp`; NotWritable if one cannot
    be kept. Nothing to do where the OS or file system has none."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(real)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.ENOSYS, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)):
            return
        raise NotWritable(f"cannot read its extended attributes: {exc.strerror}") from None
    for name in names:
        value = os.getxattr(real, name)
        try:
            os.setxattr(tmp, name, value)
        except OSError:
            pass  # e.g. security.selinux: the new file may already have the same label
        try:
            kept = os.getxattr(tmp, name) == value
        except OSError:
            kept = False
        if not kept:
            raise NotWritable(f"cannot keep the extended attribute {name}")
    for name in set(os.listxattr(tmp)) - set(names):  # e.g. a directory's default ACL
        try:
            os.removexattr(tmp, name)
        except OSError:
            pass


def write_atomic(path: str, data: bytes, expected: bytes, roots: Optional[Iterable[str]] = None) -> None:
    """Replace the file at `path` (through symlinks inside `roots`) by
    `data`, if it still holds `expected`: temp file in the same directory
    with the file's owner, extended attributes and mode, fsync, rename.

    Raises NotWritable (see fixable_target; nothing written), ChangedOnDisk,
    or OSError."""
    real = fixable_target(path, roots)
    st = os.stat(real)
    directory = os.path.dirname(real) or "."
    with _signals_held():  # a SIGTERM between creating and registering would leave it
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                   dir=directory)
        _LIVE.add(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        delay = os.environ.get(_DELAY_ENV)
        if delay:
            time.sleep(float(delay))
        _keep_owner(tmp, st)
        _keep_xattrs(real, tmp)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))  # after chown, which clears set-id bits
        with open(real, "rb") as fh:
            if fh.read() != expected:
                raise ChangedOnDisk(path)
        os.replace(tmp, real)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    finally:
        _LIVE.discard(tmp)
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGTERM/SIGHUP wait until the block ends (where the OS can hold them)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or not _CLEANUP_SIGNALS:
        yield
        return
    old = mask(signal.SIG_BLOCK, _CLEANUP_SIGNALS)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def _on_signal(signum, frame) -> None:
    for tmp in list(_LIVE):  # the originals are untouched until their rename
        _unlink_quietly(tmp)
    _LIVE.clear()
    signal.signal(signum, _PREVIOUS.get(signum, signal.SIG_DFL))
    os.kill(os.getpid(), signum)  # then die of it (or run the caller's own handler)


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While in this block, SIGTERM and SIGHUP first remove the temp files
    being written, then act as before (by default: end the process). Only
    in the main thread (elsewhere Python cannot set handlers); a signal
    the process ignores stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    installed = []
    for signum in _CLEANUP_SIGNALS:
        previous = signal.getsignal(signum)
        if previous in (signal.SIG_IGN, None) or signum in _PREVIOUS:
            continue
        _PREVIOUS[signum] = previous
        signal.signal(signum, _on_signal)
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            signal.signal(signum, _PREVIOUS.pop(signum))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier process with our pid: this run's own files are newer
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # someone else's process (or a pid no process can have)
    return True


def sweep_stale_temps(directory: str, started: float) -> List[str]:
    """Remove the temp files an interrupted `--fix` (SIGKILL, power loss)
    left in `directory`, and return their paths. Only regular files named
    exactly as write_atomic names them, owned by this user, last modified
    before `started` (time.time() seconds at the start of this run) and,
    when the name carries a pid, of a process that no longer runs."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(TEMP_SUFFIX):
            continue
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mtime >= started:
            continue
        if m.group("pid") is not None and _alive(int(m.group("pid"))):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.path)
    return removed
