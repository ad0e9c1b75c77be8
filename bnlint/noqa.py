"""`# noqa` handling with flake8's semantics: a bare `# noqa` silences every
code on its line; `# noqa: BN001, BN003` silences those codes (prefixes
match, as in flake8). A comment line `# bnlint: noqa` silences the whole
file, `# bnlint: noqa: BN001` those codes in the whole file (ruff's
`# ruff: noqa`; anywhere in the file, by convention at the top).
`add_noqa` writes the line comments for `--add-noqa`."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_KEPT = re.compile(r"(\r\n|\r|\n)")  # split keeping the breaks
# The directive's head only; the codes after it are split, not matched by one
# pattern, so no input makes the match super-linear; \A anchors: a search
# (tests/test_regex_linear.py tries one) would be quadratic without it.
_FILE_NOQA = re.compile(r"\A[ \t\f]*#[ \t]*bnlint[ \t]*:[ \t]*noqa", re.IGNORECASE)
_CODE = re.compile(r"\A[A-Z]+[0-9]+\Z", re.IGNORECASE)
_CODE_SEPARATOR = re.compile(r"[,\s]+")
ALL = None  # file_exemption: every code


def file_exemption(source: str) -> Optional[Tuple[str, ...]]:
    """Codes a `# bnlint: noqa[: CODES]` comment line exempts the whole file
    from: () for none, None (ALL) for every code. Several such lines add up."""
    if "bnlint" not in source.lower():
        return ()
    codes: List[str] = []
    for line in _LINE_BREAK.split(source):
        if "bnlint" not in line.lower() or not line.lstrip().startswith("#"):
            continue
        m = _FILE_NOQA.match(line)
        if not m:
            continue
        rest = line[m.end():].strip()
        if not rest:
            return ALL
        if not rest.startswith(":"):
            continue  # "# bnlint: noqa because ..." is prose, not a directive
        named = [c for c in _CODE_SEPARATOR.split(rest[1:]) if c]
        if named and all(_CODE.fullmatch(c) for c in named):
            codes += [c.upper() for c in named]
    return tuple(codes)


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
            c.upper() for c in _CODE_SEPARATOR.split(codes) if c
        )
    return out


def is_silenced(code: str, line: int, noqa: Dict[int, Optional[Tuple[str, ...]]]) -> bool:
    if line not in noqa:
        return False
    codes = noqa[line]
    return codes is None or any(code.startswith(c) for c in codes)


def filter_findings(findings: List, source: str) -> List:
    """The findings that neither a line's `# noqa` nor a file-level
    `# bnlint: noqa` silences. Lines are 1-based."""
    exempt = file_exemption(source)
    if exempt is ALL:
        return []
    if exempt:
        findings = [f for f in findings if not any(f.code.startswith(c) for c in exempt)]
    noqa = noqa_map(source)
    if not noqa:
        return findings
    return [f for f in findings if not is_silenced(f.code, f.line, noqa)]


def add_codes_to_line(line: str, codes: Sequence[str]) -> str:
    """`line` (without its line break) with `codes` in its `# noqa` comment:
    an existing `# noqa: X` is extended (codes it has are not repeated), a
    bare `# noqa` is left as it is, otherwise `  # noqa: CODES` is appended."""
    m = _NOQA.search(line) if "#" in line else None
    if m and not m.group("codes"):
        return line
    if m:
        have = [c.upper() for c in _CODE_SEPARATOR.split(m.group("codes")) if c]
        new = [c for c in codes if c not in have]
        if not new:
            return line
        end = m.end("codes")
        return line[:end] + ", " + ", ".join(new) + line[end:]
    return line.rstrip() + "  # noqa: " + ", ".join(codes)


def add_noqa(source: str, findings: List) -> Tuple[str, int]:
    """(new source, number of lines changed): `# noqa: CODE` added to the
    first line of every finding (1-based `line`), keeping each line's own
    line break. A comment that would change what the code means (a line that
    ends inside a string or with a backslash continuation) is not added: the
    result's syntax tree must equal the original's, line by line."""
    import ast
    import warnings

    by_line: Dict[int, List[str]] = {}
    for f in findings:
        codes = by_line.setdefault(f.line, [])
        if f.code not in codes:
            codes.append(f.code)
    if not by_line:
        return source, 0
    pieces = _LINE_BREAK_KEPT.split(source)  # line, break, line, break, ...

    def dump(text: str) -> Optional[str]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.dump(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    original = dump(source)
    if original is None:
        return source, 0

    def edited(lines: Sequence[int]) -> List[str]:
        new = list(pieces)
        for ln in lines:
            new[2 * (ln - 1)] = add_codes_to_line(new[2 * (ln - 1)], sorted(by_line[ln]))
        return new

    lines = [ln for ln in sorted(by_line) if 0 < ln and 2 * (ln - 1) < len(pieces)]
    new = edited(lines)
    if dump("".join(new)) != original:  # rare: keep only the lines that are safe alone
        lines = [ln for ln in lines if dump("".join(edited([ln]))) == original]
        new = edited(lines)
    changed = sum(1 for ln in lines if new[2 * (ln - 1)] != pieces[2 * (ln - 1)])
    return "".join(new), changed
