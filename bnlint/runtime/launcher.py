"""Start the child, bound it in time, show progress, and read its result.

The result file lives in a fresh temp directory (never the user's tree), and
the child gets PYTHONDONTWRITEBYTECODE so no `__pycache__` appears next to the
user's modules either. On --timeout, on SIGTERM/SIGHUP to bnlint and after
the script ends, every process of the run (reaper.py: the child's group and
session, its descendants, and orphans that called setsid) gets SIGTERM (the
child turns it into a clean stop and writes what it saw), then SIGKILL.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from . import reaper

_GRACE_SECONDS = 5.0
_TERM_GRACE_SECONDS = 2.0
_BNLINT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Import bnlint from where this copy lives, then take that directory off
# sys.path again so it cannot shadow the user's own modules.
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, {root!r}); from bnlint.runtime.child import main; "
    "sys.path.remove({root!r}); main()"
)


@dataclass
class ChildRun:
    target: str
    module: bool = False
    args: tuple = ()
    cwd: Optional[str] = None
    max_steps: int = 3
    timeout: float = 600.0
    progress: bool = False
    python: str = sys.executable


def run_child(spec: ChildRun, stream=None) -> Dict[str, Any]:
    """Run the user's target under instrumentation; return the child's record.

    The record is the child's result file (recorder.Recorder.as_dict) plus
    `returncode`, `wall_seconds` (float seconds) and `timeout`, with `status`
    set to "timeout" when --timeout fired, "died" when the child ended without
    writing its end, and "terminated" (with `signal`, e.g. "SIGTERM") when
    bnlint itself got SIGTERM or SIGHUP: the signal is passed on to the script.
    Every process the script started is stopped before this returns, and the
    temp directory is removed; KeyboardInterrupt is re-raised after that.
    """
    stream = stream if stream is not None else sys.stderr
    tmp = tempfile.mkdtemp(prefix="bnlint-confirm-")
    result_path = os.path.join(tmp, "result.json")
    cmd = [spec.python, "-c", _BOOTSTRAP.format(root=_BNLINT_ROOT), "--result", result_path,
           "--max-steps", str(spec.max_steps), "--parent", str(os.getpid())]
    if spec.module:
        cmd.append("--module")
    cmd += ["--", spec.target, *spec.args]
    token = secrets.token_hex(16)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env[reaper.TOKEN_VARIABLE] = token
    _adopt_orphans()
    foreign = reaper.children_of_me()
    started = time.monotonic()
    timed_out = False
    terminated: Optional[int] = None
    guard = _SignalGuard()
    try:
        try:
            proc = subprocess.Popen(cmd, cwd=spec.cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=_child_stdout(), start_new_session=True)
        except OSError as exc:
            return {"status": "not_started", "error": str(exc), "steps": 0}
        tree = reaper.ProcessTree(proc, token, foreign)
        try:
            guard.install()
            last_line = ""
            while True:
                try:
                    proc.wait(timeout=0.25)
                    break
                except subprocess.TimeoutExpired:
                    pass
                elapsed = time.monotonic() - started
                if spec.progress:
                    last_line = _show_progress(stream, result_path, elapsed, last_line)
                if elapsed > spec.timeout:
                    timed_out = True
                    break
            guard.quiet()
            if spec.progress and last_line:
                stream.write("\r" + " " * len(last_line) + "\r")
                stream.flush()
            # on a timeout the child turns SIGTERM into a clean stop and writes
            # what it saw; after a normal exit only stragglers are left
            tree.stop(_GRACE_SECONDS)
        except _Terminated as exc:
            guard.quiet()
            terminated = exc.signum
            tree.stop(_TERM_GRACE_SECONDS)
        except KeyboardInterrupt:
            guard.quiet()
            tree.stop(_TERM_GRACE_SECONDS)
            raise
        try:
            proc.wait(timeout=_GRACE_SECONDS)
        except subprocess.TimeoutExpired:  # unkillable (e.g. stuck in the kernel): leave it
            pass
        record = _read(result_path) or {"status": "running", "steps": 0}
    finally:
        guard.restore()
        shutil.rmtree(tmp, ignore_errors=True)
    record["returncode"] = proc.returncode
    record["wall_seconds"] = round(time.monotonic() - started, 3)
    record["timeout"] = spec.timeout
    if terminated is not None:
        record["status"] = "terminated"
        record["signal"] = signal.Signals(terminated).name
    elif timed_out and record.get("status") in ("running", "timeout"):
        record["status"] = "timeout"
    elif record.get("status") == "running":
        record["status"] = "died"  # killed by a signal, os._exit, or a crash in C code
        record["error"] = _describe_returncode(proc.returncode)
    return record


class _Terminated(BaseException):
    """bnlint itself got SIGTERM or SIGHUP while the script ran."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _SignalGuard:
    """While the child runs, SIGTERM and SIGHUP to bnlint raise _Terminated
    (once: during the clean-up that follows they are only noted), so the
    script is stopped and the temp directory removed. Only in the main thread,
    where Python allows signal handlers."""

    _SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __init__(self):
        self.previous: Dict[int, Any] = {}
        self.raising = False

    def _handler(self, signum, frame):
        if self.raising:
            self.raising = False
            raise _Terminated(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self.raising = True
        for sig in self._SIGNALS:
            self.previous[sig] = signal.signal(sig, self._handler)

    def quiet(self) -> None:
        self.raising = False

    def restore(self) -> None:
        self.raising = False
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()


_adopted = []


def _adopt_orphans() -> None:
    """Become a child subreaper once, so orphans of the run stay findable."""
    if not _adopted:
        _adopted.append(reaper.become_subreaper())


def _child_stdout():
    """The script's prints go to stderr, so bnlint's own stdout stays parseable."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        return subprocess.DEVNULL


def _read(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _describe_returncode(code: Optional[int]) -> str:
    if code is not None and code < 0:
        try:
            return f"the process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the process was killed by signal {-code}"
    return f"the process ended with exit code {code} before bnlint could record the end"


def _show_progress(stream, result_path: str, elapsed: float, last: str) -> str:
    record = _read(result_path) or {}
    layers = record.get("layers", {})
    line = (f"bnlint confirm: {elapsed:5.1f}s, {record.get('steps', 0)} steps, "
            f"{len(layers)} layers instrumented")
    stream.write("\r" + line.ljust(len(last)))
    stream.flush()
    return line
