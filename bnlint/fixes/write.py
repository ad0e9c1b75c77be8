"""Writing a fixed file back: same encoding, BOM and line endings (the
edits keep them), same permissions, and atomically, so an interrupted run
leaves either the old file or the new one, never half of each."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize


class ChangedOnDisk(Exception):
    """The file changed between reading and writing; it is left alone."""


def encode_like(text: str, original: bytes) -> bytes:
    """`text` encoded as `original` was (PEP 263 cookie or UTF-8, with its BOM)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(original).readline)
    data = text.encode(encoding)
    if original.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    return data


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Replace the file at `path` (through symlinks) by `data`, if it still
    holds `expected`: temp file in the same directory, fsync, rename."""
    real = os.path.realpath(path)
    st = os.stat(real)
    directory = os.path.dirname(real) or "."
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".bnlint-tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass  # only the owner's own uid/gid can be kept without privileges
        with open(real, "rb") as fh:
            if fh.read() != expected:
                raise ChangedOnDisk(path)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
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
