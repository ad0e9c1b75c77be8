"""Start the child, bound it in time, show progress, and read its result.

The result file lives in a fresh temp directory (never the user's tree), and
the child gets PYTHONDONTWRITEBYTECODE so no `__pycache__` appears next to the
user's modules either. On --timeout the child's process group gets SIGTERM
(the child turns it into a clean stop and writes what it saw), then SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

_GRACE_SECONDS = 5.0
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
    """Run the user's target under instrumentation; return the child's record."""
    stream = stream if stream is not None else sys.stderr
    tmp = tempfile.mkdtemp(prefix="bnlint-confirm-")
    result_path = os.path.join(tmp, "result.json")
    cmd = [spec.python, "-c", _BOOTSTRAP.format(root=_BNLINT_ROOT), "--result", result_path,
           "--max-steps", str(spec.max_steps)]
    if spec.module:
        cmd.append("--module")
    cmd += ["--", spec.target, *spec.args]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    started = time.monotonic()
    timed_out = False
    try:
        proc = subprocess.Popen(cmd, cwd=spec.cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=_child_stdout(), start_new_session=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        return {"status": "not_started", "error": str(exc), "steps": 0}
    try:
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
                _stop(proc)
                break
        if spec.progress and last_line:
            stream.write("\r" + " " * len(last_line) + "\r")
            stream.flush()
    except KeyboardInterrupt:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    record = _read(result_path) or {"status": "running", "steps": 0}
    shutil.rmtree(tmp, ignore_errors=True)
    record["returncode"] = proc.returncode
    record["wall_seconds"] = round(time.monotonic() - started, 3)
    record["timeout"] = spec.timeout
    if timed_out and record.get("status") in ("running", "timeout"):
        record["status"] = "timeout"
    elif record.get("status") == "running":
        record["status"] = "died"  # killed by a signal, os._exit, or a crash in C code
        record["error"] = _describe_returncode(proc.returncode)
    return record


def _child_stdout():
    """The script's prints go to stderr, so bnlint's own stdout stays parseable."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        return subprocess.DEVNULL


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, _GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


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
