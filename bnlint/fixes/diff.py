"""Unified diffs for `--diff`, line endings as in the file."""

from __future__ import annotations

import difflib
import re

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")  # only \n ends a line (\r\n included), as for Python


def _lines(text: str):
    lines = _LINE.findall(text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def unified_diff(old: str, new: str, filename: str) -> str:
    return "".join(difflib.unified_diff(_lines(old), _lines(new), fromfile=filename, tofile=filename))
