"""Find and stop every process the user's script started, however it got away.

The child runs in its own session (so its process group id is its pid), with
an environment variable naming this run. A process belongs to the run when it
is in that process group or session, carries the variable in its initial
environment, descends from the child, or is an orphan that Linux handed to
bnlint because bnlint is a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`:
orphans of the run are re-parented to bnlint instead of init, even after
`setsid` and a cleared environment). Membership also requires a start time
no earlier than the child's, so a recycled pid is never taken for a member.

Linux only for the sweep (it reads /proc); elsewhere only the process group
is signalled.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Dict, Iterable, Optional, Set, Tuple

_PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
_PR_SET_PDEATHSIG = 1
TOKEN_VARIABLE = "BNLINT_CONFIRM_RUN"


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Make this process adopt the orphans of its descendants (Linux >= 3.4).

    Returns False where the OS has no such thing. The setting lasts for the
    life of the process; `reap()` collects the orphans it adopts.
    """
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` to this process when its parent dies."""
    return _prctl(_PR_SET_PDEATHSIG, int(sig))


class _Proc:
    __slots__ = ("pid", "state", "ppid", "pgrp", "session", "start")

    def __init__(self, pid: int, fields):
        self.pid = pid
        self.state = fields[0]
        self.ppid, self.pgrp, self.session = int(fields[1]), int(fields[2]), int(fields[3])
        self.start = int(fields[19])  # clock ticks since boot


def _read_stat(pid: int) -> Optional[_Proc]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
        # `pid (comm) state ppid ...`: comm may hold spaces and parentheses
        return _Proc(pid, data[data.rindex(b")") + 2:].split())
    except (OSError, ValueError, IndexError):
        return None


def _table() -> Dict[int, _Proc]:
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            proc = _read_stat(int(name))
            if proc is not None:
                table[proc.pid] = proc
    return table


def _has_token(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return needle in fh.read().split(b"\0")
    except OSError:
        return False


class ProcessTree:
    """The processes of one `confirm` run: the child and all it started.

    `child` is the `subprocess.Popen` of the child, started in a new session
    with TOKEN_VARIABLE=`token` in its environment; `foreign` are pids of
    this process's own children that existed before the run (never members).
    """

    def __init__(self, child, token: str, foreign: Iterable[int] = ()):
        self.child = child
        self.root = child.pid
        self.needle = f"{TOKEN_VARIABLE}={token}".encode()
        self.me = os.getpid()
        self.foreign = set(foreign)
        root_proc = _read_stat(self.root)
        self.root_start = root_proc.start if root_proc is not None else None
        self.has_proc = self.root_start is not None

    def members(self) -> Set[int]:
        """Pids of the live (not zombie) processes of the run, the child included."""
        if not self.has_proc:
            return set()
        table = _table()
        # Linux reuses a pid only once no process has it as pid, group or
        # session id; a process holding the child's pid with another start
        # time means that group and session are someone else's now.
        ours = not self._reused(table)
        mine: Set[int] = set()
        for proc in table.values():
            if proc.pid == self.me or proc.start < self.root_start or proc.pid in self.foreign:
                continue
            if ((ours and self.root in (proc.pid, proc.pgrp, proc.session))
                    or proc.ppid == self.me or _has_token(proc.pid, self.needle)):
                mine.add(proc.pid)
        # descendants of members (children of children), to a fixed point
        grew = True
        while grew:
            grew = False
            for proc in table.values():
                if proc.pid not in mine and proc.ppid in mine and proc.pid != self.me:
                    mine.add(proc.pid)
                    grew = True
        return {pid for pid in mine if table[pid].state not in (b"Z", b"X")}

    def _reused(self, table: Optional[Dict[int, _Proc]] = None) -> bool:
        """Whether the child's pid now names an unrelated process."""
        if not self.has_proc:
            return False
        proc = table.get(self.root) if table is not None else _read_stat(self.root)
        return proc is not None and proc.start != self.root_start

    def _signal_group(self, sig: int) -> None:
        if not self._reused():
            try:
                os.killpg(self.root, sig)
            except (ProcessLookupError, PermissionError, OSError):
                pass

    def signal_all(self, sig: int) -> None:
        self._signal_group(sig)
        for pid in self.members():
            _kill(pid, sig)

    def wait_gone(self, seconds: float) -> bool:
        """Poll until no member is left (True) or `seconds` pass (False)."""
        deadline = time.monotonic() + seconds
        while True:
            self.child.poll()  # the child is reaped by its Popen, which keeps its exit status
            reap(skip=(self.root,))
            alive = bool(self.members()) if self.has_proc else (
                not self._reused() and _group_alive(self.root))
            if not alive:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def kill_all(self, rounds: int = 50) -> None:
        """SIGKILL every member. Members are stopped first, round after round
        until no new one appears, so a process that forks while we look cannot
        slip out."""
        if self.has_proc:
            stopped: Set[int] = set()
            for _ in range(rounds):
                new = self.members() - stopped
                if not new:
                    break
                for pid in new:
                    _kill(pid, signal.SIGSTOP)
                stopped |= new
            for pid in stopped:
                _kill(pid, signal.SIGKILL)
        self._signal_group(signal.SIGKILL)
        self.wait_gone(2.0)

    def stop(self, grace: float) -> None:
        """SIGTERM everyone, give them `grace` seconds, then SIGKILL the rest."""
        self.signal_all(signal.SIGTERM)
        if not self.wait_gone(grace):
            self.kill_all()
        reap(skip=(self.root,))


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError, OSError):
        return False


def children_of_me() -> Set[int]:
    """Pids whose parent is this process (before a run: not the run's)."""
    me = os.getpid()
    return {p.pid for p in _table().values() if p.ppid == me}


def reap(skip: Tuple[int, ...] = ()) -> None:
    """Collect exited orphans adopted as subreaper (so no zombies are left)."""
    me = os.getpid()
    for proc in _table().values():
        if proc.ppid == me and proc.state in (b"Z", b"X") and proc.pid not in skip:
            try:
                os.waitpid(proc.pid, os.WNOHANG)
            except (ChildProcessError, OSError):
                pass
