"""Where in the user's code a layer ran: the chain of user frames.

Static findings are positions in the user's files, so every runtime record
carries the user frames above it as (file, line, def_line) triples. Library
frames (TensorFlow, Keras, the standard library, bnlint itself) are skipped.
Code that `tf.function` converted with AutoGraph runs from generated temp
files; their lines are mapped back to the user's source through the source
maps AutoGraph builds (collected by `note_autograph_source_map`).
"""

from __future__ import annotations

import functools
import linecache
import os
import site
import sys
import sysconfig
from typing import Callable, Dict, List, Optional, Tuple

Frame = Tuple[str, int, int]  # file, line, line of the enclosing `def` (0 at module level)

_AUTOGRAPH_PREFIX = "__autograph_generated_file"
_BNLINT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _library_roots() -> Tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    try:
        roots.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # virtualenv's old site.py
        pass
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        roots.add(os.path.realpath(user_site))
    roots.add(_BNLINT_DIR)
    return tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots))


_ROOTS = _library_roots()
# code object -> user file (realpath) or None for library / generated code
_CODE_FILE: Dict[object, Optional[str]] = {}
_DEF_LINE: Dict[object, int] = {}
# (generated file, line) -> (user file, line)
_AUTOGRAPH_MAP: Dict[Tuple[str, int], Tuple[str, int]] = {}


@functools.lru_cache(maxsize=None)
def is_user_file(path: str) -> bool:
    if not path or path.startswith("<") or not path.endswith(".py"):
        return False
    real = os.path.realpath(path)
    if os.path.basename(real).startswith(_AUTOGRAPH_PREFIX):
        return False
    return not any(real.startswith(root) for root in _ROOTS) and "site-packages" not in real


def _user_file(code) -> Optional[str]:
    try:
        return _CODE_FILE[code]
    except KeyError:
        path = code.co_filename
        value = os.path.realpath(path) if is_user_file(path) else None
        _CODE_FILE[code] = value
        return value


def _def_line(code, path: str) -> int:
    """The `def` line of a function (co_firstlineno points at its first decorator)."""
    try:
        return _DEF_LINE[code]
    except KeyError:
        pass
    line = 0
    if code.co_name != "<module>":
        line = code.co_firstlineno
        for offset in range(50):
            text = linecache.getline(path, code.co_firstlineno + offset).lstrip()
            if text.startswith(("def ", "async def ")):
                line = code.co_firstlineno + offset
                break
    _DEF_LINE[code] = line
    return line


def is_autograph_file(path: str) -> bool:
    """Whether `path` is a module AutoGraph generated from user code."""
    return _AUTOGRAPH_PREFIX in os.path.basename(path)


def autograph_origin(path: str, line: int) -> Optional[Tuple[str, int]]:
    """The user's (file, line) that AutoGraph's generated `path`:`line` came from."""
    origin = _AUTOGRAPH_MAP.get((path, line))
    return origin if origin is not None and is_user_file(origin[0]) else None


def note_autograph_source_map(source_map) -> None:
    """Remember where AutoGraph's generated lines came from."""
    for loc, origin in source_map.items():
        try:
            _AUTOGRAPH_MAP[(loc.filename, loc.lineno)] = (origin.loc.filename, origin.loc.lineno)
        except AttributeError:
            continue


def _user_location(frame) -> Optional[Frame]:
    """(file, line, def line) when `frame` runs user code (AutoGraph's
    generated code mapped back to the user's source), else None."""
    code = frame.f_code
    path = _user_file(code)
    if path is not None:
        return path, frame.f_lineno, _def_line(code, code.co_filename)
    if _AUTOGRAPH_PREFIX in code.co_filename:
        origin = _AUTOGRAPH_MAP.get((code.co_filename, frame.f_lineno))
        if origin is not None and is_user_file(origin[0]):
            return os.path.realpath(origin[0]), origin[1], _autograph_def_line(origin[0], origin[1])
    return None


def user_frames(frame, limit: int = 200) -> List[Frame]:
    """The user frames from `frame` outwards, innermost first."""
    out: List[Frame] = []
    while frame is not None and limit > 0:
        limit -= 1
        where = _user_location(frame)
        if where is not None:
            out.append(where)
        frame = frame.f_back
    return out


# A user call: (file, line) of a call in user code of a Keras layer or
# model, and what it passed as `training`: "True", "False", "None",
# "tensor", "absent" (nothing) or "unknown" (could not be read).
UserCall = Tuple[str, int, str]


def user_calls(frame, wrapper_code, passed_of: Callable, limit: int = 200) -> List[UserCall]:
    """The Keras layer/model calls made from user code on the stack above
    `frame`, innermost first.

    `wrapper_code` is the code object of the `Layer.__call__` wrapper, so a
    frame running it is one layer call; `passed_of(wrapper_frame)` says what
    that call passed as `training`. A layer call belongs to the nearest user
    frame outside it, unless another layer call lies between them (then it
    was made by Keras itself, e.g. Sequential calling its layers).
    """
    out: List[UserCall] = []
    pending = None
    while frame is not None and limit > 0:
        limit -= 1
        if frame.f_code is wrapper_code:
            pending = frame
        elif pending is not None:
            where = _user_location(frame)
            if where is not None:
                out.append((where[0], where[1], passed_of(pending)))
                pending = None
        frame = frame.f_back
    return out


def lost_mode_site(calls: List[UserCall]) -> Optional[Tuple[str, int]]:
    """Where the mode was lost: the outermost user call that passed no
    `training`, or passed False/None (issue 14 item 19); None if every
    user call passed something else."""
    for call in reversed(calls):
        if call[2] in ("absent", "False", "None"):
            return call[0], call[1]
    return None


def mode_site(calls: List[UserCall]) -> Optional[Tuple[str, int]]:
    """Where the layer's mode was set: the innermost user call that passed
    `training` explicitly (its source says whether it is a literal)."""
    for call in calls:
        if call[2] != "absent":
            return (call[0], call[1]) if call[2] != "unknown" else None
    return None


def _autograph_def_line(path: str, line: int) -> int:
    """The `def` line enclosing `line` in a user file (converted code has no own code object)."""
    key = ("ag", path, line)
    if key in _DEF_LINE:
        return _DEF_LINE[key]
    indent = None
    text = linecache.getline(path, line)
    if text:
        indent = len(text) - len(text.lstrip())
    found = 0
    for n in range(line - 1, 0, -1):
        candidate = linecache.getline(path, n)
        stripped = candidate.lstrip()
        if not stripped:
            continue
        depth = len(candidate) - len(stripped)
        if stripped.startswith(("def ", "async def ")) and (indent is None or depth < indent):
            found = n
            break
    _DEF_LINE[key] = found
    return found


def loaded_user_files() -> List[str]:
    """User source files among the loaded modules (the files the script touched)."""
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and is_user_file(path) and os.path.isfile(path):
            files.add(os.path.realpath(path))
    return sorted(files)
