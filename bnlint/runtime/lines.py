"""Which lines of the user's own code ran inside GradientTape blocks.

Only Keras layer and model calls are instrumented, so a finding on a call
of something else (a plain function, a `tf.Module`, a loaded SavedModel)
leaves no trace; without knowing whether its line ran, the checker could
only guess "this code never ran". While a GradientTape is open (where
BN001's calls are), `sys.settrace` in that thread gives line events for
frames of user files and of AutoGraph's generated code (mapped back later),
and nothing for library frames. Outside tapes nothing is traced: a global
trace function costs a Python call per function call, which over a whole
run (model building, tf.function tracing) measured about +25% CPU on a
small CNN. Each tape's `with` line is recorded too, so the parent can tell
"the block never ran" from "the block ran but this line did not".

Off when a debugger or coverage tool already traces (`sys.gettrace()` set).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Dict, List, Set, Tuple

from . import sites

_seen: Set[Tuple[str, int]] = set()  # (code's file name, 1-based line)
_wanted_codes: Dict[object, bool] = {}
_tapes: Set[Tuple[str, int]] = set()  # user (file, line) of each `with GradientTape()` entered
_state = {"depth": 0, "ours": False, "blind": False}


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


def tape_entered(frame) -> None:
    """A GradientTape opened in the current thread; `frame` is its caller."""
    if threading.current_thread() is not threading.main_thread():
        _state["blind"] = True  # its lines are not traced, so nothing is claimed
        return
    where = sites.user_frames(frame, limit=30)
    if where:
        _tapes.add((where[0][0], where[0][1]))
    _state["depth"] += 1
    if _state["depth"] > 1 or _state["blind"]:
        return
    if sys.gettrace() is not None:  # someone else traces: claim nothing
        _state["blind"] = True
        return
    while frame is not None:
        if _wanted(frame.f_code):
            frame.f_trace = _local
        frame = frame.f_back
    sys.settrace(_global)
    _state["ours"] = True


def tape_exited() -> None:
    """The innermost open GradientTape closed."""
    if threading.current_thread() is not threading.main_thread():
        return
    _state["depth"] = max(0, _state["depth"] - 1)
    if _state["depth"] == 0 and _state["ours"]:
        if sys.gettrace() is _global:
            sys.settrace(None)
        else:  # the script replaced our tracer meanwhile
            _state["blind"] = True
        _state["ours"] = False


def traced() -> bool:
    """Whether every tape block that ran was traced (so "never ran" is a fact)."""
    return not _state["blind"]


def tape_sites() -> List[List]:
    """[[file (real path), line], ...] of the `with` lines of tapes entered."""
    return sorted([os.path.realpath(f), line] for f, line in _tapes)


def executed() -> Dict[str, List[int]]:
    """User file (real path) -> sorted lines that ran inside tapes;
    AutoGraph's lines are mapped back to the user's source."""
    out: Dict[str, Set[int]] = {}
    for name, line in list(_seen):
        if sites.is_autograph_file(name):
            origin = sites.autograph_origin(name, line)
            if origin is None:
                continue
            name, line = origin
        out.setdefault(os.path.realpath(name), set()).add(line)
    return {name: sorted(lines) for name, lines in out.items()}
