"""`# noqa` handling with flake8's semantics: a bare `# noqa` silences every
code on its line; `# noqa: BN001, BN003` silences those codes (prefixes
match, as in flake8)."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def noqa_map(source: str) -> Dict[int, Optional[Tuple[str, ...]]]:
    """line number -> None (all codes) or the codes named; only lines with noqa."""
    out: Dict[int, Optional[Tuple[str, ...]]] = {}
    if "noqa" not in source.lower():
        return out
    # Python's own line breaks only: str.splitlines() also breaks at form
    # feeds and U+2028, which would shift every later line number.
    for lineno, line in enumerate(_LINE_BREAK.split(source), start=1):
        if "#" not in line:
            continue
        m = _NOQA.search(line)
        if not m:
            continue
        codes = m.group("codes")
        out[lineno] = None if not codes else tuple(
            c.upper() for c in re.split(r"[,\s]+", codes) if c
        )
    return out


def is_silenced(code: str, line: int, noqa: Dict[int, Optional[Tuple[str, ...]]]) -> bool:
    if line not in noqa:
        return False
    codes = noqa[line]
    return codes is None or any(code.startswith(c) for c in codes)


def filter_findings(findings: List, source: str) -> List:
    noqa = noqa_map(source)
    if not noqa:
        return findings
    return [f for f in findings if not is_silenced(f.code, f.line, noqa)]
