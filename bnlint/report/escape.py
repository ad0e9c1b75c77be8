"""Text that reaches a terminal: control characters written as escapes.

A file name, a message that quotes source, or a source line may hold
terminal escape codes (ESC [ 2 J clears the screen; OSC sequences set the
window title or write links), line breaks that forge extra output lines,
or bidirectional overrides that make text read differently from what it
is ("Trojan Source", CVE-2021-42574). Every formatter whose output is read
on a terminal (concise, full, github) passes such text through printable().
"""

from __future__ import annotations

import re

# C0 controls (tab and line breaks included), DEL, C1 controls, and the
# Unicode bidirectional controls and line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(m: "re.Match[str]") -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with each control character replaced by its Python escape
    (`\\x1b`, `\\u202e`); other characters, backslashes included, unchanged.
    Linear in len(text)."""
    return _CONTROL.sub(_escape, text)
