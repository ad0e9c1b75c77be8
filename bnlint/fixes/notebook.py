"""`--fix` / `--diff` for Jupyter notebooks: edit the code cells' sources
inside the .ipynb text and leave every other byte as it was.

The code cells are linted as one program (as `bnlint.notebook` does for
findings); each fix's edits, character offsets into that program, are
mapped back to character offsets into one cell's source. An edit that
touches a line IPython syntax replaced (`%magic`, `!cmd`), that spans two
cells, or that adds lines to a cell IPython runs dedented is not applied,
and the caller is told how many were left (never silently). A cell that
does not parse on its own is left out, as Jupyter would run the others.

The .ipynb file is not re-serialised: only the JSON string values of the
changed cells' `source` (nbformat 4) or `input` (nbformat 3) are rewritten
in place, lines that did not change keep their original JSON text
(escapes included), and new lines are written in the file's own style
(`\\uXXXX` escapes only if the file uses them for non-ASCII text).
"""

from __future__ import annotations

import ast
import bisect
import difflib
import json
import json.decoder
import json.scanner
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Tuple

from ..config import Config
from ..finding import Edit, Finding
from ..notebook import NotebookError, load, python_lines
from .apply import choose, splice, wanted

MAX_PASSES = 10
_NEWLINE = re.compile(r"\r\n|\r|\n")
_CELL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line with its break (tests/test_regex_linear.py)


class NotFixable(Exception):
    """This notebook cannot be fixed at all; the message says why."""


@dataclass
class NotebookOutcome:
    """The fixed .ipynb text, the number of fixes applied, and how many
    fixes could not be applied (they touch IPython syntax or span cells)."""

    text: str
    fixed: int = 0
    skipped: int = 0
    broken: bool = False  # a pass produced a cell that does not parse (a bnlint bug)
    findings: List[Finding] = field(default_factory=list)


# -- reading the cells and where their strings are in the file ----------------
class _Str(str):
    """A JSON string value with its [start, end) offsets in the file text."""

    start: int
    end: int


def _located(text: str) -> Any:
    decoder = json.JSONDecoder()

    def parse_string(s: str, end: int, strict: bool) -> Tuple[str, int]:
        value, new_end = json.decoder.scanstring(s, end, strict)
        located = _Str(value)
        located.start, located.end = end - 1, new_end
        return located, new_end

    decoder.parse_string = parse_string
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner ignores the hook
    return decoder.decode(text)


def _raw_cells(doc: Any) -> Tuple[List[Any], str]:
    if isinstance(doc, dict) and isinstance(doc.get("cells"), list):
        return doc["cells"], "source"
    sheets = doc.get("worksheets") if isinstance(doc, dict) else None
    if isinstance(sheets, list) and all(isinstance(s, dict) and isinstance(s.get("cells"), list) for s in sheets):
        return [c for s in sheets for c in s["cells"]], "input"
    raise NotFixable("no `cells` list")


@dataclass
class _Cell:
    index: int  # 1-based over all cells, as findings name them
    source: str
    value: Any  # the located JSON value (a _Str or a list of _Str)


def _cells(text: str) -> List[_Cell]:
    try:
        code = load(text)
    except NotebookError as exc:
        raise NotFixable(f"not a readable notebook ({exc})") from None
    except RecursionError:
        raise NotFixable("nested too deeply to read") from None
    if code is None:
        return []  # another language: nothing to fix
    try:
        raw, key = _raw_cells(_located(text))
    except (ValueError, RecursionError):
        raise NotFixable("not a readable notebook") from None
    out = []
    for cell in code:
        value = raw[cell.index - 1].get(key, "")
        if not isinstance(value, (_Str, list)):
            raise NotFixable(f"cell {cell.index}: the source is not a JSON string or list")
        out.append(_Cell(cell.index, cell.source, value))
    return out


# -- the program and its map back to cells ------------------------------------
def _parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _cell_parses(source: str) -> bool:
    """A cell as IPython runs it parses (a non-Python cell magic counts as parsing)."""
    lines = python_lines(source)
    return lines is None or _parses("\n".join(lines))


@dataclass
class _Line:
    cell: int  # position in the cell list
    offset: int  # where the line starts in the cell's source (characters)
    cut: int  # columns IPython's dedent removed; -1: the line is not the cell's own text
    newline: str  # the cell's line break after this line ("" for its last line)
    length: int  # the raw line's length in the cell, without its break


@dataclass
class _Program:
    text: str
    starts: List[int]  # character offset of each program line
    lines: List[_Line]
    dedented: set = field(default_factory=set)  # cells IPython runs dedented
    newlines: Dict[int, str] = field(default_factory=dict)  # cell -> its first line break


def _program(sources: List[Optional[str]]) -> _Program:
    """The cells (None: left out) joined as bnlint.notebook joins them."""
    parts: List[str] = []
    lines: List[_Line] = []
    dedented, newlines = set(), {}
    for k, source in enumerate(sources):
        py = python_lines(source) if source is not None else None
        if not py:
            continue
        raw, offsets, breaks, at = [], [], [], 0
        for m in _NEWLINE.finditer(source):
            raw.append(source[at:m.start()])
            offsets.append(at)
            breaks.append(m.group())
            at = m.end()
        raw.append(source[at:])
        offsets.append(at)
        breaks.append("")
        for j, line in enumerate(py):
            own = raw[j] if j < len(raw) else None
            cut = -1
            if own is not None and own.endswith(line) and not own[:len(own) - len(line)].strip():
                cut = len(own) - len(line)
            lines.append(_Line(k, offsets[j] if j < len(offsets) else len(source), cut,
                               breaks[j] if j < len(breaks) else "", len(own) if own is not None else 0))
            if cut > 0:
                dedented.add(k)
        newlines[k] = next((b for b in breaks if b), "\n")
        parts.extend(py)
    text = "\n".join(parts) + ("\n" if parts else "")
    starts, at = [], 0
    for part in parts:
        starts.append(at)
        at += len(part) + 1
    return _Program(text, starts, lines, dedented, newlines)


def _map(program: _Program, edit: Edit) -> Optional[Tuple[int, Edit]]:
    """The edit as (cell position, edit of that cell's source), or None."""
    if not program.starts:
        return None
    first = bisect.bisect_right(program.starts, edit.start) - 1
    last = bisect.bisect_right(program.starts, max(edit.start, edit.end - 1)) - 1
    span = program.lines[first:last + 1]
    cell = span[0].cell
    if any(line.cell != cell or line.cut < 0 for line in span):
        return None
    if cell in program.dedented and "\n" in edit.text:
        return None  # new lines would need IPython's indentation put back
    start_column = edit.start - program.starts[first]
    if start_column > span[0].length - span[0].cut:
        return None  # starts at a line break the program added: nothing of the cell's own
    start = span[0].offset + span[0].cut + start_column
    end_line = span[-1]
    column = edit.end - program.starts[last]  # in the program's line `last`
    text = edit.text
    if column > end_line.length - end_line.cut:
        # the edit takes the line break: the cell's own, or none after its last line
        end = end_line.offset + end_line.length + len(end_line.newline)
        if not end_line.newline:
            if not text.endswith("\n"):
                return None
            text = text[:-1]
    else:
        end = end_line.offset + end_line.cut + column
    newline = program.newlines.get(cell, "\n")
    if newline != "\n":
        text = text.replace("\n", newline)
    return cell, Edit(start, end, text)


# -- linting the program --------------------------------------------------------
def _lint(program: str, filename: str, config: Config) -> List[Finding]:
    from ..engine import lint_text

    # The program is linted as Python (fixes are built for .py files only);
    # the notebook's own per-file ignores are resolved for its real name first.
    plain = replace(config, ignore=tuple(config.ignore) + tuple(config.ignored_for(filename)),
                    per_file_ignores=())
    try:
        return lint_text(program, filename + ".py", plain)
    except Exception:  # the plain lint path reports this failure as a finding
        return []


def fix_notebook(text: str, filename: str, config: Config, unsafe: bool = False) -> NotebookOutcome:
    """Apply every applicable fix to the code cells of the notebook `text`.

    Returns the new .ipynb text (equal to `text` when nothing applied).
    Raises NotFixable when the notebook cannot be read as one."""
    cells = _cells(text)
    outcome = NotebookOutcome(text)
    if not cells:
        return outcome
    sources = [c.source for c in cells]
    broken = {k for k, s in enumerate(sources) if not _cell_parses(s)}
    seen = {tuple(sources)}
    skipped = 0
    for _ in range(MAX_PASSES):
        program = _program([None if k in broken else s for k, s in enumerate(sources)])
        findings = _lint(program.text, filename, config)
        outcome.findings = findings
        fixes, skipped = [], 0
        for f in findings:
            if not wanted(f.fix, unsafe):
                continue
            mapped = [_map(program, e) for e in f.fix.edits]
            if any(m is None for m in mapped):
                skipped += 1
                continue
            fixes.append((f.fix, mapped))
        if not fixes:
            break
        taken, _ = choose(fix for fix, _ in fixes)
        by_cell: Dict[int, List[Edit]] = {}
        for fix, mapped in fixes:
            if fix in taken:
                for cell, edit in mapped:
                    if edit not in by_cell.setdefault(cell, []):
                        by_cell[cell].append(edit)
        new = list(sources)
        for cell, edits in by_cell.items():
            new[cell] = splice(new[cell], edits)
        if tuple(new) in seen:
            break
        if not all(_cell_parses(new[k]) for k in by_cell):
            outcome.broken = True
            break
        seen.add(tuple(new))
        sources = new
        outcome.fixed += len(taken)
    outcome.skipped = skipped
    changed = {k: s for k, s in enumerate(sources) if s != cells[k].source}
    if changed:
        outcome.text = _rewrite(text, cells, changed)
    return outcome


# -- writing the sources back into the JSON text ------------------------------
def _dump(value: str, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


def _rewrite(text: str, cells: List[_Cell], changed: Dict[int, str]) -> str:
    """`text` with the source of each changed cell (position -> new source)
    replaced in place; every byte outside those JSON values is kept."""
    ascii_only = text.isascii() and "\\u" in text
    pieces: List[Tuple[int, int, str]] = []
    for k, source in changed.items():
        value = cells[k].value
        if isinstance(value, _Str):
            pieces.append((value.start, value.end, _dump(source, ascii_only)))
            continue
        old = list(value)
        # nbformat's split: one string per line, each keeping its break
        new = [m.group() for m in _CELL_LINE.finditer(source)]
        if not old:
            raise NotFixable(f"cell {cells[k].index}: an empty source list")  # nothing to fix there
        seps = [text[a.end:b.start] for a, b in zip(old, old[1:])]
        default_sep = seps[0] if seps else _separator(text, old[0])
        out: List[str] = []
        prev_old = None
        matcher = difflib.SequenceMatcher(None, [str(s) for s in old], new, autojunk=False)
        for tag, i1, _i2, j1, j2 in matcher.get_opcodes():
            for j in range(j1, j2):
                i = i1 + (j - j1) if tag == "equal" else None
                item = text[old[i].start:old[i].end] if i is not None else _dump(new[j], ascii_only)
                if out:
                    out.append(seps[i - 1] if i is not None and prev_old == i - 1 else default_sep)
                out.append(item)
                prev_old = i
        pieces.append((old[0].start, old[-1].end, "".join(out)))
    for start, end, new_text in sorted(pieces, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


def _separator(text: str, first: _Str) -> str:
    """`,` plus the line break and indentation the list's first string has."""
    line_start = text.rfind("\n", 0, first.start) + 1
    before = text[line_start:first.start]
    if before.strip() == "":
        return ",\n" + before
    return ", "
