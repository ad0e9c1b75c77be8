"""Which lines of the user's own code ran (a small line tracer).

Only Keras layer and model calls are instrumented, so a finding on a call
of something else (a plain function, a `tf.Module`, a loaded SavedModel)
leaves no trace; without knowing whether its line ran, the checker could
only guess "this code never ran". `sys.settrace` in the main thread gives
line events for frames of user files (and of AutoGraph's generated code,
mapped back later) and nothing for library frames. Tracing is paused while
TensorFlow, Keras or tf_keras import (child.py), which is where most of its
cost would go. It stays off when a debugger or coverage tool already traces
(`sys.gettrace()` is set), and then no line is claimed to have run or not.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Dict, Iterator, List, Set, Tuple

from . import sites

_seen: Set[Tuple[str, int]] = set()  # (code's file name, 1-based line)
_wanted_codes: Dict[object, bool] = {}
_state = {"active": False}


def _wanted(code) -> bool:
    try:
        return _wanted_codes[code]
    except KeyError:
        name = code.co_filename
        value = sites.is_user_file(name) or sites.is_autograph_file(name)
        _wanted_codes[code] = value
        return value


def _local(frame, event, arg):
    if event == "line":
        _seen.add((frame.f_code.co_filename, frame.f_lineno))
    return _local


def _global(frame, event, arg):
    return _local if _wanted(frame.f_code) else None


def start(frame) -> bool:
    """Trace from now on, including the user frames from `frame` outwards
    that already run. False (and nothing done) if something else traces."""
    if sys.gettrace() is not None:
        return False
    while frame is not None:
        if _wanted(frame.f_code):
            frame.f_trace = _local
        frame = frame.f_back
    sys.settrace(_global)
    threading.settrace(_global)
    _state["active"] = True
    return True


def active() -> bool:
    """Whether the tracer is still the main thread's (so "never ran" is a
    fact); once the script replaced it, never again."""
    if _state["active"] and sys.gettrace() is not _global and not _state.get("paused"):
        _state["active"] = False
    return _state["active"]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No tracing inside (a big library import); back on afterwards."""
    if sys.gettrace() is not _global:
        yield
        return
    sys.settrace(None)
    _state["paused"] = True
    try:
        yield
    finally:
        _state["paused"] = False
        if sys.gettrace() is None:
            sys.settrace(_global)


def executed() -> Dict[str, List[int]]:
    """User file (real path) -> sorted lines that ran; AutoGraph's lines are
    mapped back to the user's source."""
    out: Dict[str, Set[int]] = {}
    for name, line in list(_seen):
        if sites.is_autograph_file(name):
            origin = sites.autograph_origin(name, line)
            if origin is None:
                continue
            name, line = origin
        out.setdefault(os.path.realpath(name), set()).add(line)
    return {name: sorted(lines) for name, lines in out.items()}
