"""Is a fix fit to be offered? Checked once, where fixes are attached to
findings, so an invalid fix reaches no output: not the JSON `fix` field,
not `--fix` / `--diff`, not the editor's quick fix.

A fix is valid when (1) its edits are in bounds and do not overlap, (2)
the smallest statement holding all of them, edited, still parses, and (3)
it makes no Keras layer or model call pass an argument twice (`model(x,
None)` binds `training` by position, so adding `training=True` raises
TypeError; measured on Keras 3.15.1: "multiple values for argument
'training'"). An invalid fix is dropped from its finding; the finding stays.

Cost: one `ast` parse of the edited statement per fix (not of the file),
so the work is linear in the number of findings.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from typing import List, Optional, Sequence, Tuple

from ..api import load_api
from ..finding import Fix

_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line for Python's tokenizer


class _Lines:
    """Offsets (characters) of line starts, and ast's (line, UTF-8 byte
    column) positions converted to character offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0] + [m.end() for m in _BREAK.finditer(source)]

    def offset(self, lineno: int, col: int) -> int:
        start = self.starts[lineno - 1]
        end = self.starts[lineno] if lineno < len(self.starts) else len(self.source)
        line = self.source[start:end].encode("utf-8", "surrogatepass")
        return start + len(line[:col].decode("utf-8", "surrogatepass"))

    def line_start(self, offset: int) -> int:
        return self.starts[bisect.bisect_right(self.starts, offset) - 1]


_LAST: tuple = (None, None)  # (source, its _Lines): findings of one file are checked in a row


def _lines_of(source: str) -> _Lines:
    global _LAST
    last, lines = _LAST
    if last is not source:
        lines = _Lines(source)
        _LAST = (source, lines)
    return lines


def _suites(stmt: ast.stmt) -> List[List[ast.stmt]]:
    """The statement lists directly inside `stmt` (bodies, else, handlers)."""
    out = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(stmt, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            out.append(value)
    for handler in getattr(stmt, "handlers", None) or []:
        out.append(handler.body)
    for case in getattr(stmt, "cases", None) or []:
        out.append(case.body)
    return out


def _covering(tree: ast.Module, lines: _Lines, lo: int, hi: int) -> Optional[Tuple[ast.stmt, int, int]]:
    """The innermost statement whose text holds [lo, hi], with its span."""
    best = None
    suites = [tree.body]
    while suites:
        suite = suites.pop()
        # Statements of a suite are in source order: the last one starting
        # at or before `lo` is the only candidate.
        keys = _starts(tree, suite)
        i = bisect.bisect_right(keys, _line_of(lines, lo)) - 1
        candidates = []
        for j in range(i, -1, -1):  # `a; b`: several statements start on one line
            if suite[j].lineno != suite[i].lineno:
                break
            candidates.append(suite[j])
        for stmt in candidates:
            start = lines.offset(stmt.lineno, stmt.col_offset)
            end = lines.offset(stmt.end_lineno, stmt.end_col_offset)
            if start <= lo and hi <= end and not lines.source.startswith("elif", start):
                best = (stmt, start, end)
                suites = _suites(stmt)
                break
    return best


_KEYS: tuple = (None, {})  # (tree, id(suite) -> first lines of its statements)


def _starts(tree: ast.Module, suite: List[ast.stmt]) -> List[int]:
    """The first line of each statement of `suite`, kept per tree (so a
    thousand fixes in one block cost one list, not a thousand)."""
    global _KEYS
    last, table = _KEYS
    if last is not tree:
        table = {}
        _KEYS = (tree, table)
    keys = table.get(id(suite))
    if keys is None:
        keys = table[id(suite)] = [s.lineno for s in suite]
    return keys


def _line_of(lines: _Lines, offset: int) -> int:
    """1-based line of a character offset."""
    return bisect.bisect_right(lines.starts, offset)


def _parse(code: str) -> Tuple[Optional[ast.Module], Optional[str]]:
    """(tree, None) for code that parses, else (None, the reason)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code), None
    except SyntaxError as exc:
        return None, f"the fixed code does not parse ({exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"the fixed code does not parse ({type(exc).__name__})"


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _twice(node: ast.AST, params: Sequence[str], exempt: frozenset) -> int:
    """Calls under `node` that pass a Keras call parameter both by position
    and by keyword (`params`: the parameters of Keras' `call`, in order;
    `exempt`: callee names that are not Keras calls, such as TF1 builders)."""
    n = 0
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or _callee_name(call.func) in exempt:
            continue
        positional = sum(1 for a in call.args if not isinstance(a, ast.Starred))
        n += sum(1 for kw in call.keywords if kw.arg in params and positional > params.index(kw.arg))
    return n


def check_fix(fix: Fix, source: str, tree: Optional[ast.Module] = None) -> Optional[str]:
    """None when `fix` may be offered for `source`, else the reason not.

    `fix.edits` are character offsets into `source` (BOM removed); `tree`
    is `ast.parse(source)` when the caller has it (else it is parsed here).
    """
    edits = sorted(fix.edits, key=lambda e: (e.start, e.end))
    if not edits:
        return "no edits"
    if edits[0].start < 0 or edits[-1].end > len(source) or any(
            e.start > e.end for e in edits) or any(a.end > b.start for a, b in zip(edits, edits[1:])):
        return "edits out of bounds or overlapping"
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return "the file itself does not parse"
    lines = _lines_of(source)
    lo, hi = edits[0].start, edits[-1].end
    found = _covering(tree, lines, lo, hi)
    if found is None:  # edits between statements: check the whole file
        start, end, old = 0, len(source), tree
    else:
        old, start, end = found
    parts, at = [], start
    for e in edits:
        parts += [source[at:e.start], e.text]
        at = e.end
    parts.append(source[at:end])
    text = "".join(parts)
    prefix = source[lines.line_start(start):start]
    indent = prefix if not prefix.strip() else prefix[:len(prefix) - len(prefix.lstrip())]
    code = f"if 1:\n{indent}{text}" if indent else text
    new_tree, reason = _parse(code)
    if reason is not None:
        return reason
    api = load_api()
    params = api.model_call_parameters
    from ..rules.tables import family_tables  # `model.stateless_call(tv, ntv, x)`: its positions are not call()'s

    exempt = frozenset(name.rsplit(".", 1)[-1] for name in api.tf1_builders) | \
        family_tables(api).stateless_call_methods
    if _twice(new_tree, params, exempt) > _twice(old, params, exempt):
        return "a call would get an argument twice (by position and by keyword)"
    return None


def validated(fix: Optional[Fix], source: str, tree: Optional[ast.Module] = None) -> Optional[Fix]:
    """`fix` when check_fix accepts it, else None (the finding keeps no fix)."""
    if fix is None:
        return None
    try:
        return fix if check_fix(fix, source, tree) is None else None
    except Exception:  # a checker bug must not cost the finding, nor offer an unchecked fix
        return None
