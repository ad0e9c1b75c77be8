"""`bnlint --fix` / `--diff`: lint, apply the chosen fixes, lint again.

Fixes are applied in passes: each pass lints the current text and applies
the fixes that do not clash; a pass whose result does not parse is thrown
away. A file with no applicable fix is never written, so its mtime stays.
"""

from __future__ import annotations

import ast
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, TextIO

from ..config import Config
from ..engine import decode, lint_bytes, lint_text, read_file
from ..finding import Finding
from ..report.escape import printable
from .apply import choose, splice, wanted
from .diff import unified_diff
from .notebook import NotFixable, fix_notebook
from .write import (ChangedOnDisk, EncodingLoses, NotWritable, check_round_trip, cleanup_on_signals, encode_like,
                    fixable_target, sweep_stale_temps, tree_roots, write_atomic)

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
            # Together they break the code (each alone passed validate):
            # keep the ones that still parse, one at a time, not none at all.
            outcome.broken = True
            taken, new = _those_that_parse(outcome.text, taken, filename)
            if not taken or new in seen:
                return outcome
        seen.add(new)
        outcome.text = new
        outcome.fixed += len(taken)
    outcome.findings = _lint(outcome.text, filename, config)
    return outcome


def _those_that_parse(text: str, fixes: Sequence, filename: str):
    """The fixes (in order) whose edits, added one fix at a time, keep
    `text` parsing, and the text with them applied. One parse per fix:
    only on the rare path where a pass did not parse."""
    taken, edits, new = [], [], text
    for fix in fixes:
        extra = [e for e in fix.edits if e not in edits]
        candidate = splice(text, sorted(edits + extra, key=lambda e: e.start))
        if _parses(candidate, filename):
            taken.append(fix)
            edits += extra
            new = candidate
    return taken, new


@dataclass
class Totals:
    fixed: int = 0
    files: int = 0  # files changed (or that would be, with --diff)
    refused: int = 0  # files with a fix that was not made (said on stderr)


def _warn(message: str) -> None:
    sys.stderr.write(f"bnlint: {printable(message)}\n")


def fix_files(paths: Sequence[str], config: Config, unsafe: bool, write: bool,
              out: Optional[TextIO] = None, roots: Optional[Sequence[str]] = None,
              config_for: Optional[Callable[[str], Config]] = None) -> Totals:
    """Fix files in place (`write`) or print their diffs to `out`.

    Each file is fixed with `config_for(path)` when given (its nearest
    config, config.Settings.config_for), else with `config`.
    `roots`: the linted tree (write.tree_roots of the paths the user gave);
    None: each file's own directory. A file that must not be written
    (write.fixable_target) or whose encoding does not round-trip is named on
    stderr and counted in `refused`, with `--diff` too."""
    totals = Totals()
    every = config
    for path in paths:
        config = config_for(path) if config_for is not None else every
        data, problem = read_file(path)
        if problem is not None:
            continue
        if path.endswith(".ipynb"):
            _fix_notebook_file(path, data, config, unsafe, write, out, totals, roots)
            continue
        text, problem = decode(data, path)
        if problem is not None:
            continue
        outcome = fix_text(text, path, config, unsafe)
        if outcome.broken:
            _warn(f"{path}: fixes together produced code that does not parse; those were not applied "
                  "(please report this bug)")
        if outcome.text == text:
            continue
        try:
            fixable_target(path, roots)
            check_round_trip(data, text)
            new_data = encode_like(outcome.text, data)
        except (EncodingLoses, NotWritable) as exc:
            _warn(f"{path}: not fixed: {exc}")
            totals.refused += 1
            continue
        except OSError as exc:
            _warn(f"{path}: not fixed: {exc.strerror or exc}")
            totals.refused += 1
            continue
        if out is not None:
            out.write(unified_diff(text, outcome.text, path))
        if write:
            try:
                write_atomic(path, new_data, data, roots)
            except ChangedOnDisk:
                _warn(f"{path}: changed while being fixed; left alone")
                continue
            except NotWritable as exc:
                _warn(f"{path}: not fixed: {exc}")
                totals.refused += 1
                continue
            except (OSError, UnicodeError) as exc:
                _warn(f"{path}: cannot write the fix: {exc}")
                continue
        totals.fixed += outcome.fixed
        totals.files += 1
    return totals


def _fix_notebook_file(path: str, data: bytes, config: Config, unsafe: bool, write: bool,
                       out: Optional[TextIO], totals: Totals,
                       roots: Optional[Sequence[str]] = None) -> None:
    """One notebook: its cells' sources edited inside the JSON text; a notebook
    that cannot be fixed, or fixes that cannot be applied, are said on stderr."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        _warn(f"{path}: not fixed: the notebook is not UTF-8")
        return
    bom = text.startswith("\ufeff")
    try:
        outcome = fix_notebook(text[1:] if bom else text, path, config, unsafe)
    except NotFixable as exc:
        _warn(f"{path}: not fixed: {exc}")
        return
    if outcome.broken:
        _warn(f"{path}: a fix produced a cell that does not parse; not applied (please report this bug)")
    if outcome.skipped:
        _warn(f"{path}: {outcome.skipped} fix{'' if outcome.skipped == 1 else 'es'} not applied: "
              "they touch IPython syntax, span cells, or add lines to an indented cell")
    new = ("\ufeff" if bom else "") + outcome.text
    if new == text:
        return
    try:
        fixable_target(path, roots)
    except (NotWritable, OSError) as exc:
        _warn(f"{path}: not fixed: {getattr(exc, 'strerror', None) or exc}")
        totals.refused += 1
        return
    if out is not None:
        out.write(unified_diff(text, new, path))
    if write:
        try:
            write_atomic(path, new.encode("utf-8"), data, roots)
        except ChangedOnDisk:
            _warn(f"{path}: changed while being fixed; left alone")
            return
        except NotWritable as exc:
            _warn(f"{path}: not fixed: {exc}")
            totals.refused += 1
            return
        except OSError as exc:
            _warn(f"{path}: cannot write the fix: {exc}")
            return
    totals.fixed += outcome.fixed
    totals.files += 1


def _write_bytes(out: TextIO, data: bytes) -> None:
    """`data` to `out` as they are (its byte buffer when it has one)."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # an in-memory stream: the closest text
        out.write(data.decode("utf-8", "surrogateescape"))
        return
    out.flush()
    buffer.write(data)
    buffer.flush()


def _tell(findings: Sequence[Finding]) -> None:
    for f in findings:  # stdout holds the code, so findings go to stderr
        sys.stderr.write(printable(f"{f.filename}:{f.line}:{f.column}: {f.code} {f.message}") + "\n")


def fix_stdin(data: bytes, name: str, config: Config, unsafe: bool, diff: bool, out: TextIO) -> int:
    """stdin: print the fixed source (or its diff); exit 1 if findings remain
    (or, with `diff`, if there is a change).

    The source goes out in the input's own encoding, BOM and line endings;
    when no fix applies (or the input cannot be decoded, or its encoding
    does not round-trip) stdout is the input, byte for byte."""
    if name.endswith(".ipynb"):
        return _fix_notebook_stdin(data, name, config, unsafe, diff, out)
    text, problem = decode(data, name)
    if problem is not None:
        if not diff:
            _write_bytes(out, data)
        _tell([problem])
        return 1
    outcome = fix_text(text, name, config, unsafe)
    new_data, refused = data, False
    if outcome.text != text:
        try:
            check_round_trip(data, text)
            new_data = encode_like(outcome.text, data)
        except EncodingLoses as exc:
            _warn(f"{name}: not fixed: {exc}")
            outcome, refused = Outcome(text, findings=_lint(text, name, config)), True
    if diff:
        out.write(unified_diff(text, outcome.text, name))
        return int(outcome.text != text or refused)
    _write_bytes(out, new_data)
    _tell(outcome.findings)
    return int(bool(outcome.findings))


def _fix_notebook_stdin(data: bytes, name: str, config: Config, unsafe: bool, diff: bool, out: TextIO) -> int:
    try:
        text = data.decode("utf-8")
        outcome = fix_notebook(text, name, config, unsafe)
    except (UnicodeDecodeError, NotFixable) as exc:
        _warn(f"{name}: not fixed: {exc}")
        if not diff:
            _write_bytes(out, data)
        return 1
    if outcome.skipped:
        _warn(f"{name}: {outcome.skipped} fix{'' if outcome.skipped == 1 else 'es'} not applied")
    if diff:
        out.write(unified_diff(text, outcome.text, name))
        return int(outcome.text != text)
    out.write(outcome.text)
    left = lint_bytes(outcome.text.encode("utf-8"), name, config)
    for f in left:
        sys.stderr.write(f"{f.location()}: {f.code} {f.message}\n")
    return int(bool(left))


def _sweep(paths: Sequence[str], started: float) -> None:
    """Remove stale temp files of an earlier, killed `--fix` next to the
    files this run may write (write.sweep_stale_temps), and say so."""
    for directory in dict.fromkeys(os.path.dirname(p) or os.curdir for p in paths):
        for stale in sweep_stale_temps(directory, started):
            _warn(f"removed {stale}, left by an interrupted --fix")


def fix_and_tell(paths: Sequence[str], config: Config, args, out: TextIO,
                 config_for: Optional[Callable[[str], Config]] = None) -> int:
    """The CLI's `--fix` / `--diff` over files: 1 if anything changed (or would)."""
    if not args.diff:
        _sweep(paths, time.time())
    with cleanup_on_signals():  # SIGTERM mid-write leaves no temp file
        totals = fix_files(paths, config, args.unsafe_fixes, write=not args.diff,
                           out=out if args.diff else None, roots=tree_roots(args.paths or ["."]),
                           config_for=config_for)
    noun = "finding" if totals.fixed == 1 else "findings"
    where = f"in {totals.files} file{'' if totals.files == 1 else 's'}"
    if args.diff:
        if totals.fixed:
            sys.stderr.write(f"Would fix {totals.fixed} {noun} {where}.\n")
    elif totals.fixed and not args.quiet and args.output_format in ("concise", "full"):
        out.write(f"Fixed {totals.fixed} {noun} {where}.\n")
    return int(totals.files > 0 or totals.refused > 0)
