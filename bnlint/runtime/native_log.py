"""Print TensorFlow's native start-up log once.

`import tensorflow` loads two shared objects that each start their own copy
of absl logging, so the start-up messages (the "All log messages before
absl::InitializeLog()" warning, oneDNN, CUDA) are written to stderr twice
(measured on TF 2.21: the second copy comes from `_pywrap_profiler_plugin`;
plain `python -c "import tensorflow"` shows it too). While the child runs
that import, file descriptor 2 goes through a pipe; a thread copies every
line on at once, except a native log line whose text (without its time
stamp and thread id) was already printed during the import. Everything else
passes unchanged and in order.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Iterator, Set

_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITIES = b"IWEF"


def _native_key(line: bytes):
    """The text of an absl log line without its time stamp and thread id,
    e.g. b"I port.cc:153] oneDNN ...", or None for any other line.

    Format: `I0000 00:00:1796073132.786600    9041 port.cc:153] message`."""
    if line.rstrip(b"\r") == _ABSL_PREAMBLE:
        return line
    if len(line) < 6 or line[0] not in _SEVERITIES or not line[1:5].isdigit() or line[5:6] != b" ":
        return None
    parts = line[6:].split(None, 2)  # time, thread id, "file:line] message"
    if len(parts) < 3 or not parts[1].isdigit() or b"] " not in parts[2]:
        return None
    return line[:1] + b" " + parts[2]


class _Copier(threading.Thread):
    def __init__(self, read_fd: int, write_fd: int):
        super().__init__(name="bnlint-native-log", daemon=True)
        self.read_fd, self.write_fd = read_fd, write_fd
        self.seen: Set[bytes] = set()

    def _emit(self, line: bytes) -> None:
        key = _native_key(line.rstrip(b"\n"))
        if key is not None:
            if key in self.seen:
                return
            self.seen.add(key)
        view = memoryview(line)
        while view:
            try:
                view = view[os.write(self.write_fd, view):]
            except InterruptedError:
                continue
            except OSError:
                return

    def run(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except InterruptedError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._emit(line + b"\n")
        if pending:
            self._emit(pending)
        os.close(self.read_fd)


@contextlib.contextmanager
def once() -> Iterator[None]:
    """Within this block, repeated native log lines on fd 2 are dropped.

    Does nothing (passes everything) if the pipe cannot be set up."""
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(2)
        read_fd, write_fd = os.pipe()
    except OSError:
        yield
        return
    copier = _Copier(read_fd, saved)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    copier.start()
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        os.dup2(saved, 2)  # closes the pipe's last write end: the copier sees its end
        copier.join(timeout=5.0)
        if not copier.is_alive():  # else a process started meanwhile still holds the pipe
            os.close(saved)
