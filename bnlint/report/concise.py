"""`path:line:col: CODE [*] message`, one line a finding (flake8/ruff style),
and the summary lines under it (ruff's wording for fixes)."""

from __future__ import annotations

from typing import Dict, List

from ..finding import Finding
from .escape import printable
from .filenames import text_name

_STYLES = {"location": "\033[1m", "code": "\033[1;31m", "fixable": "\033[36m"}  # ANSI SGR
_RESET = "\033[0m"


def paint(text: str, kind: str, color: bool) -> str:
    """`text` in the colour for `kind` (location, code, fixable) when `color`."""
    style = _STYLES.get(kind)
    return f"{style}{text}{_RESET}" if color and style else text


def fixable(finding: Finding, unsafe: bool) -> bool:
    """Would `--fix` (with `--unsafe-fixes` when `unsafe`) apply this finding's fix?"""
    fix = finding.fix
    return fix is not None and bool(fix.edits) and (fix.applicability == "safe" or unsafe)


def marked_message(finding: Finding, unsafe: bool, color: bool) -> str:
    """`CODE [*] message` (the mark only when --fix would fix it), coloured,
    control characters escaped (escape.printable)."""
    mark = paint("[*]", "fixable", color) + " " if fixable(finding, unsafe) else ""
    return f"{paint(printable(finding.code), 'code', color)} {mark}{printable(finding.message)}"


def format_concise(findings: List[Finding], sources: Dict[str, str], unsafe: bool = False,
                   color: bool = False) -> str:
    return "".join(f"{paint(location(f), 'location', color)}: {marked_message(f, unsafe, color)}\n"
                   for f in findings)


def location(f: Finding) -> str:
    """`path:line:col` with the path as `filenames.text_name` writes it
    (undecodable bytes and control characters as escapes)."""
    return text_name(f.filename) + f.location()[len(f.filename):]


def summary_lines(findings: List[Finding], files: int, unsafe: bool) -> List[str]:
    """The lines after the findings: how many, and how many `--fix` would fix
    (ruff's wording, including the fixes `--unsafe-fixes` would add)."""
    noun = "file" if files == 1 else "files"
    if not findings:
        return [f"All checks passed! ({files} {noun} checked)"]
    lines = [f"Found {len(findings)} finding{'' if len(findings) == 1 else 's'} in {files} {noun} checked."]
    applicable = sum(1 for f in findings if fixable(f, unsafe))
    hidden = 0 if unsafe else sum(1 for f in findings if fixable(f, True) and not fixable(f, False))
    hint = ""
    if hidden:
        fixes = "fix" if hidden == 1 else "fixes"
        hint = f"{hidden} hidden {fixes} can be enabled with the `--unsafe-fixes` option"
    if applicable:
        lines.append(f"[*] {applicable} fixable with the `--fix` option" + (f" ({hint})." if hint else "."))
    elif hint:
        lines.append(f"No fixes available ({hint}).")
    return lines
