"""Reading a whole file or stream with a size bound, never blocking on a FIFO.

Linted files, configuration files and standard input all come from places
bnlint does not control: `/dev/zero`, a FIFO or a 20 GB file must end in a
clear error after reading at most `limit + 1` bytes, not in a hang or a
memory kill.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO, Iterator

_CHUNK = 1 << 20  # bytes per read() call


class NotRegularFile(OSError):
    """The path is a directory, FIFO, socket or device (the message says which)."""


class TooLarge(Exception):
    """More than `limit` bytes: args are (size, limit) in bytes, size being
    what os.fstat reported, or limit + 1 for a stream or a file that grew."""

    @property
    def size(self) -> int:
        return self.args[0]

    @property
    def limit(self) -> int:
        return self.args[1]

    def __str__(self) -> str:
        return f"over the {self.limit}-byte limit"


def file_kind(mode: int) -> str:
    """`stat` mode -> "a directory", "a FIFO", ... (for messages)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _open_regular(path, follow: bool = True):
    """(fd, stat) of `path` opened read-only with O_NONBLOCK, so that a FIFO
    swapped in after any earlier check cannot block, then checked with fstat
    on the open descriptor (no race). With follow=False a symlink fails to
    open (O_NOFOLLOW, an OSError). The caller closes fd. Raises
    NotRegularFile (fd already closed) or another OSError from open."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"is {file_kind(st.st_mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_regular_file(path: str, limit: int, follow: bool = True) -> bytes:
    """The bytes of `path` (str or bytes path), at most `limit` bytes.

    Raises NotRegularFile, TooLarge (from the size fstat reports, before
    reading, or when the file grew past the limit while being read), or
    another OSError from open/read (TooLarge is not an OSError); with
    follow=False a symlink is an OSError (see _open_regular)."""
    fd, st = _open_regular(path, follow)
    try:
        if st.st_size > limit:
            raise TooLarge(st.st_size, limit)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = read_stream(fh, limit)
    finally:
        os.close(fd)
    return data


def windows(path: str, size: int, overlap: int, budget: int) -> Iterator[bytes]:
    """Overlapping pieces of a regular file, each at most `size + overlap`
    bytes (the last `overlap` bytes of the previous piece come first), until
    EOF or until `budget` bytes were read; memory stays O(size + overlap).
    Raises NotRegularFile or another OSError like read_regular_file."""
    fd, _ = _open_regular(path)
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            tail = b""
            read = 0
            while read < budget:
                chunk = fh.read(min(size, budget - read))
                if not chunk:
                    return
                read += len(chunk)
                piece = tail + chunk
                yield piece
                tail = piece[-overlap:] if overlap else b""
    finally:
        os.close(fd)


def read_prefix(stream: BinaryIO, limit: int) -> bytes:
    """What `stream` gives until EOF, but at most `limit + 1` bytes: a result
    longer than `limit` means there is more (left unread in the stream)."""
    parts = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def read_stream(stream: BinaryIO, limit: int) -> bytes:
    """Everything `stream` gives until EOF, at most `limit` bytes; raises
    TooLarge as soon as byte `limit + 1` arrives (the rest stays unread)."""
    data = read_prefix(stream, limit)
    if len(data) > limit:
        raise TooLarge(len(data), limit)
    return data
