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
