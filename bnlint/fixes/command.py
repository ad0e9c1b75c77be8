"""`bnlint --fix` / `--diff`: lint, apply the chosen fixes, lint again.

Fixes are applied in passes: each pass lints the current text and applies
the fixes that do not clash; a pass whose result does not parse is thrown
away. A file with no applicable fix is never written, so its mtime stays.
"""

from __future__ import annotations

import ast
import sys
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, TextIO

from ..config import Config
from ..engine import decode, lint_bytes, lint_text, read_file
from ..finding import Finding
from .apply import choose, splice, wanted
from .diff import unified_diff
from .write import ChangedOnDisk, encode_like, write_atomic

MAX_PASSES = 10


@dataclass
class Outcome:
    text: str
    fixed: int = 0
    findings: List[Finding] = field(default_factory=list)
    broken: bool = False  # a pass produced code that does not parse (a bnlint bug)


def _parses(text: str, filename: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _lint(text: str, filename: str, config: Config) -> List[Finding]:
    try:
        return lint_text(text, filename, config)
    except Exception:
        # lint_bytes turns the failure into a BN902/BN903 finding
        return lint_bytes(text.encode("utf-8", "surrogatepass"), filename, config)


def fix_text(text: str, filename: str, config: Config, unsafe: bool = False) -> Outcome:
    """Apply every applicable fix to `text`; findings are those left after."""
    outcome = Outcome(text)
    seen = {text}
    for _ in range(MAX_PASSES):
        outcome.findings = _lint(outcome.text, filename, config)
        fixes = [f.fix for f in outcome.findings if wanted(f.fix, unsafe)]
        if not fixes:
            return outcome
        taken, edits = choose(fixes)
        new = splice(outcome.text, edits)
        if new in seen:
            return outcome
        if not _parses(new, filename):
            outcome.broken = True
            return outcome
        seen.add(new)
        outcome.text = new
        outcome.fixed += len(taken)
    outcome.findings = _lint(outcome.text, filename, config)
    return outcome


@dataclass
class Totals:
    fixed: int = 0
    files: int = 0  # files changed (or that would be, with --diff)


def _warn(message: str) -> None:
    sys.stderr.write(f"bnlint: {message}\n")


def fix_files(paths: Sequence[str], config: Config, unsafe: bool, write: bool,
              out: Optional[TextIO] = None) -> Totals:
    """Fix files in place (`write`) or print their diffs to `out`."""
    totals = Totals()
    for path in paths:
        if path.endswith(".ipynb"):
            continue  # notebook findings point into cells; no fixes there yet
        data, problem = read_file(path)
        if problem is not None:
            continue
        text, problem = decode(data, path)
        if problem is not None:
            continue
        outcome = fix_text(text, path, config, unsafe)
        if outcome.broken:
            _warn(f"{path}: a fix produced code that does not parse; not applied (please report this bug)")
        if outcome.text == text:
            continue
        if out is not None:
            out.write(unified_diff(text, outcome.text, path))
        if write:
            try:
                write_atomic(path, encode_like(outcome.text, data), data)
            except ChangedOnDisk:
                _warn(f"{path}: changed while being fixed; left alone")
                continue
            except (OSError, UnicodeError) as exc:
                _warn(f"{path}: cannot write the fix: {exc}")
                continue
        totals.fixed += outcome.fixed
        totals.files += 1
    return totals


def fix_stdin(data: bytes, name: str, config: Config, unsafe: bool, diff: bool, out: TextIO) -> int:
    """stdin: print the fixed source (or its diff); exit 1 if findings remain
    (or, with `diff`, if there is a change)."""
    text, problem = decode(data, name)
    if problem is not None:
        if not diff:
            out.write(data.decode("utf-8", "replace"))
        return 1
    outcome = fix_text(text, name, config, unsafe)
    if diff:
        out.write(unified_diff(text, outcome.text, name))
        return int(outcome.text != text)
    out.write(outcome.text)
    for f in outcome.findings:  # stdout holds the code, so what is left goes to stderr
        sys.stderr.write(f"{f.filename}:{f.line}:{f.column}: {f.code} {f.message}\n")
    return int(bool(outcome.findings))


def fix_and_tell(paths: Sequence[str], config: Config, args, out: TextIO) -> int:
    """The CLI's `--fix` / `--diff` over files: 1 if anything changed (or would)."""
    totals = fix_files(paths, config, args.unsafe_fixes, write=not args.diff,
                       out=out if args.diff else None)
    noun = "finding" if totals.fixed == 1 else "findings"
    where = f"in {totals.files} file{'' if totals.files == 1 else 's'}"
    if args.diff:
        if totals.fixed:
            sys.stderr.write(f"Would fix {totals.fixed} {noun} {where}.\n")
    elif totals.fixed and not args.quiet and args.output_format in ("concise", "full"):
        out.write(f"Fixed {totals.fixed} {noun} {where}.\n")
    return int(totals.files > 0)
