"""How a file name that is not valid UTF-8 (or holds control characters) is
written in each output format.

On POSIX a file name is bytes; Python hands bnlint the bytes that are not
UTF-8 as lone surrogates U+DC80-U+DCFF (PEP 383 "surrogateescape"), which no
UTF-8 output can hold. The choice, per kind of output:

- text for people and line-based tools (concise, full, github, junit):
  `text_name` writes each undecodable byte and each control character as
  `\\xNN` (bidi controls as `\\uNNNN`, escape.printable), so a name is one
  printable line (`caf\\xe9.py`);
- JSON (json, json-lines): `unicode_name` writes only the undecodable bytes
  as `\\xNN` and leaves the rest to the JSON encoder, so the document is valid
  UTF-8 and every string valid Unicode;
- SARIF URIs: `uri_path` percent-encodes the original bytes (RFC 3986), the
  one encoding that keeps the exact name (`caf%E9.py`).
"""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote

from .escape import printable

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def raw_bytes(name: str) -> bytes:
    """The bytes the name stands for: UTF-8, with U+DC80-U+DCFF back to the
    bytes they escape. Any other lone surrogate (only possible in a name
    given on the command line or by an editor) becomes its `\\udXXX` text."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape, name).encode("utf-8", "surrogateescape")


def unicode_name(name: str) -> str:
    """The name as valid Unicode: undecodable bytes as `\\xNN` (4 characters)."""
    if not _SURROGATE.search(name):
        return name
    return raw_bytes(name).decode("utf-8", "backslashreplace")


def text_name(name: str) -> str:
    """`unicode_name` with control characters (tab, newline, ESC, bidi
    overrides, ...) also written as escapes (escape.printable): one
    printable line, no terminal escape codes."""
    return printable(unicode_name(name))


def uri_path(name: str) -> str:
    """The name's bytes percent-encoded for a URI path (`/` kept)."""
    return quote(raw_bytes(name), safe="/")


def valid_unicode(text: Optional[str]) -> Optional[str]:
    """Any text (a message that quotes a name) with lone surrogates written
    as `\\xNN` / `\\udXXX`, so that it can be encoded as UTF-8; None stays None."""
    return None if text is None else unicode_name(text)
