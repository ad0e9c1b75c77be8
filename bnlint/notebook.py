"""Jupyter notebooks: the code cells, in order, linted as one program.

A notebook runs its cells in one namespace, so a model built in cell 2 and
trained in cell 5 is one program to the rules. IPython syntax that is not
Python (`%magic`, `!shell`, `x = !cmd`, `obj?`) becomes `pass`; a cell magic
skips its cell, except the few whose body is Python (`%%time`). Findings
come back as (cell, line in cell). A cell that does not parse is reported
on its own and left out, as Jupyter would run the others. A file that is not
a notebook is BN905.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Tuple

from .config import Config
from .finding import Finding
from .meta import meta_finding as _meta_finding

# Cell magics that run their body as Python in the user namespace.
PYTHON_BODY_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_ASSIGN_MAGIC = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_HELP = re.compile(r"^\s*(\?\??.*|[\w.\[\]()*]+\?\??\s*)$")


class NotebookError(Exception):
    """Not a notebook we can read; `line`/`column` point into the file when known."""

    def __init__(self, detail: str, line: int = 1, column: int = 1) -> None:
        super().__init__(detail)
        self.line, self.column = line, column


@dataclass
class Cell:
    index: int  # 1-based over all cells (markdown included): nb["cells"][index - 1]
    source: str


# -- reading ----------------------------------------------------------------
def _source(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    raise NotebookError(f"{where}: `source` must be a string or a list of strings")


def _raw_cells(doc: Any) -> Tuple[List[Any], str]:
    """The cell list and the key that holds a code cell's text (nbformat 4, or 3)."""
    if not isinstance(doc, dict):
        raise NotebookError(f"the top level is a JSON {type(doc).__name__}, not an object")
    if isinstance(doc.get("cells"), list):
        return doc["cells"], "source"
    sheets = doc.get("worksheets")
    if isinstance(sheets, list) and all(isinstance(s, dict) and isinstance(s.get("cells"), list) for s in sheets):
        return [c for s in sheets for c in s["cells"]], "input"
    raise NotebookError("no `cells` list (is this a Jupyter notebook?)")


def _is_python(doc: Dict[str, Any]) -> bool:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        info = meta.get(key)
        if isinstance(info, dict) and isinstance(info.get(field), str):
            return info[field].lower() == "python"
    return True  # no language recorded: Jupyter's default kernel is Python


def load(text: str) -> Optional[List[Cell]]:
    """The code cells, or None for a notebook in another language."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # The whole message ("... starting at: line 3 column 12 (char 40)"), not
        # exc.msg alone, which stops mid-sentence.
        raise NotebookError(f"not valid JSON: {exc}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise NotebookError("not valid JSON: nested too deeply") from None
    raw, key = _raw_cells(doc)
    if not _is_python(doc):
        return None
    cells = []
    for i, cell in enumerate(raw, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"cell {i}: not a cell object with a `cell_type`")
        if cell["cell_type"] != "code":
            continue
        if key == "input" and str(cell.get("language", "python")).lower() != "python":
            continue
        cells.append(Cell(i, _source(cell.get(key, ""), f"cell {i}")))
    return cells


def cell_source(text: str, index: int) -> str:
    """The text of cell `index` (1-based, all cells), or "" if it cannot be read."""
    try:
        raw, key = _raw_cells(json.loads(text))
        cell = raw[index - 1]
        return _source(cell.get("source", cell.get(key, "")), f"cell {index}")
    except (ValueError, IndexError, AttributeError, NotebookError, RecursionError):
        return ""


# -- IPython syntax -> Python -----------------------------------------------
def _scan(line: str, depth: int, quote: Optional[str]) -> Tuple[int, Optional[str], bool]:
    """Bracket depth and open string after `line`, and whether it ends with `\\`."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if c == "#":
            return depth, None, False
        if c in "\"'":
            quote = c * 3 if line.startswith(c * 3, i) else c
            i += len(quote)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        i += 1
    continued = line.endswith("\\") and (quote is None or len(quote) == 1)
    if quote is not None and len(quote) == 1 and not continued:
        quote = None  # an unterminated one-line string ends here (a syntax error anyway)
    return depth, quote, continued


def _is_ipython(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("%", "!")) or bool(_ASSIGN_MAGIC.match(line)) or bool(_HELP.match(line))


def python_lines(source: str) -> Optional[List[str]]:
    """The cell as Python, line for line; None for a cell magic that is not Python."""
    cell = _python_cell(source)
    return None if cell is None else cell[0]


def _leading_indent(lines: List[str]) -> Tuple[List[str], List[int]]:
    """IPython runs an indented cell dedented by its first line's indentation;
    the columns removed from each line, to put them back in findings."""
    first = next((line for line in lines if line.strip()), "")
    prefix = first[: len(first) - len(first.lstrip())]
    if not prefix:
        return lines, [0] * len(lines)
    cut = [len(prefix) if line.startswith(prefix) else 0 for line in lines]
    return [line[n:] for line, n in zip(lines, cut)], cut


def _python_cell(source: str) -> Optional[Tuple[List[str], List[int]]]:
    lines = _NEWLINE.split(source)  # Python's line breaks only, not str.splitlines()'s
    if lines[-1] == "":
        lines.pop()
    lines, cut = _leading_indent(lines)
    if lines and lines[0].lstrip().startswith("%%"):
        name = lines[0].lstrip()[2:].split(maxsplit=1)
        if not name or name[0] not in PYTHON_BODY_MAGICS:
            return None
        lines = [""] + lines[1:]
    out: List[str] = []
    depth, quote, continued, magic = 0, None, False, False
    for line in lines:
        at_statement = depth == 0 and quote is None and not continued
        if magic or (at_statement and _is_ipython(line)):
            indent = line[: len(line) - len(line.lstrip())]
            out.append("" if magic else f"{indent}pass")
            magic = continued = line.endswith("\\")
            continue
        depth, quote, continued = _scan(line, depth, quote)
        out.append(line)
    return out, cut


# -- the program and its map back to cells ------------------------------------
@dataclass
class Program:
    text: str
    starts: List[int]  # the program line where each included cell begins
    cells: List[int]  # the cell index for each entry in `starts`
    cut: Dict[int, int]  # program line -> columns IPython's dedent removed there

    def locate(self, line: int) -> Tuple[int, int]:
        """program line -> (cell index, line in that cell)."""
        k = max(0, bisect.bisect_right(self.starts, line) - 1)
        return self.cells[k], line - self.starts[k] + 1

    def name(self, line: int) -> str:
        """How a message names a program line: "on line 2 in cell 3"."""
        cell, in_cell = self.locate(line)
        return f"{in_cell} in cell {cell}"


def build(cells: List[Cell], leave_out: frozenset = frozenset()) -> Program:
    parts: List[str] = []
    starts: List[int] = []
    indices: List[int] = []
    cuts: Dict[int, int] = {}
    line = 1
    for cell in cells:
        code = None if cell.index in leave_out else _python_cell(cell.source)
        if not code or not code[0]:
            continue
        lines, cut = code
        starts.append(line)
        indices.append(cell.index)
        parts.extend(lines)
        cuts.update((line + k, n) for k, n in enumerate(cut) if n)
        line += len(lines)
    return Program("\n".join(parts) + ("\n" if parts else ""), starts or [1], indices or [0], cuts)


def _in_cell(f: Finding, program: Program) -> Finding:
    cell, line = program.locate(f.line)
    end_cell, end_line = program.locate(f.end_line)
    column = f.column + program.cut.get(f.line, 0)
    if end_cell != cell:  # cannot happen for a node; keep the span inside the cell
        end_line, end_column = line, column
    else:
        end_column = f.end_column + program.cut.get(f.end_line, 0)
    return replace(f, cell=cell, line=line, column=column, end_line=end_line, end_column=end_column)


# -- where a cell line sits in the .ipynb file (for GitHub and SARIF) ----------
class _Located(str):
    """A JSON string value that remembers its offset in the file."""


def _located_doc(text: str) -> Any:
    decoder = json.JSONDecoder()

    def parse_string(s: str, end: int, strict: bool) -> Tuple[str, int]:
        value, new_end = json.decoder.scanstring(s, end, strict)
        located = _Located(value)
        located.offset = end - 1
        return located, new_end

    decoder.parse_string = parse_string
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner ignores the hook
    return decoder.decode(text)


def file_lines(text: str, cells: List[int]) -> Dict[Tuple[int, int], int]:
    """(cell, line in cell) -> line in the .ipynb file, for the given cells.

    nbformat stores a cell's source as one JSON string per line, each on its
    own line of the file, so annotations can land on the right line of a diff.
    """
    out: Dict[Tuple[int, int], int] = {}
    try:
        raw, key = _raw_cells(_located_doc(text))
    except (ValueError, NotebookError, RecursionError):
        return out
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    for index in set(cells):
        if not 0 < index <= len(raw) or not isinstance(raw[index - 1], dict):
            continue
        value = raw[index - 1].get(key)
        pieces = value if isinstance(value, list) else [value]
        line = 1
        for piece in pieces:
            if not isinstance(piece, _Located):
                break
            file_line = bisect.bisect_left(newlines, piece.offset) + 1
            for _ in range(piece.count("\n") + (0 if piece.endswith("\n") else 1)):
                out[(index, line)] = file_line  # a one-string source: all on its line
                line += 1
    return out


# -- linting ------------------------------------------------------------------
def _findings(program: Program, filename: str, config: Config, result, lint_text) -> List[Finding]:
    try:
        return lint_text(program.text, filename, config, result=result, line_name=program.name)
    except RecursionError:
        return [_meta_finding("BN902", filename, "nesting too deep to analyse")]
    except Exception as exc:  # a bug in bnlint must not end the run
        return [_meta_finding("BN903", filename, f"{type(exc).__name__}: {exc}")]


def _broken_cells(cells: List[Cell]) -> Dict[int, Tuple[int, int, str]]:
    """cell index -> (line in cell, column, message) of each cell that does
    not parse on its own (one parse per cell: linear in cells)."""
    from .semantic.parse import ParseFailure, parse

    out: Dict[int, Tuple[int, int, str]] = {}
    for cell in cells:
        code = _python_cell(cell.source)
        if not code or not code[0]:
            continue
        lines, cut = code
        try:
            parse("\n".join(lines) + "\n")
        except ParseFailure as exc:
            shift = cut[exc.line - 1] if 0 < exc.line <= len(cut) else 0  # IPython's dedent
            out[cell.index] = (exc.line, exc.column + shift, exc.detail)
    return out


def lint_notebook(data: bytes, filename: str, config: Config, result=None, lint_text=None) -> List[Finding]:
    """Findings of a notebook; `lint_text` is the engine's (passed in, so
    this module does not import the engine)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [_meta_finding("BN901", filename, f"cannot decode as utf-8 at byte {exc.start}: {exc.reason}")]
    try:
        cells = load(text)
    except NotebookError as exc:
        return [_meta_finding("BN905", filename, str(exc), exc.line, exc.column)]
    if not cells:
        return []
    broken: Dict[int, Finding] = {}  # cell -> its syntax error
    program = build(cells)
    found = _findings(program, filename, config, result, lint_text)
    if any(f.code == "BN902" for f in found):
        # Jupyter runs the other cells; so does bnlint, and names the bad
        # ones: each cell parsed alone once, then the rest linted once.
        for index, (line, column, detail) in _broken_cells(cells).items():
            broken[index] = replace(_meta_finding("BN902", filename, detail, line, column), cell=index)
        if broken:
            program = build(cells, frozenset(broken))
            found = _findings(program, filename, config, result, lint_text)
        for _ in range(len(cells) + 1):  # cells broken only together (rare): one at a time
            bad = next((f for f in found if f.code == "BN902"), None)
            if bad is None:
                break
            cell, _ = program.locate(bad.line)
            if cell == 0 or cell in broken:
                break
            broken[cell] = _in_cell(bad, program)
            program = build(cells, frozenset(broken))
            found = _findings(program, filename, config, result, lint_text)
    mapped = [f if f.code in ("BN903", "BN904") else _in_cell(f, program) for f in found]
    out = mapped + list(broken.values())
    wanted = [f.cell for f in out if f.cell is not None]
    if wanted:
        where = file_lines(text, wanted)
        for f in out:
            if (f.cell, f.line) in where:
                f.extra["ipynb_line"] = where[(f.cell, f.line)]
    return sorted(out, key=Finding.sort_key)
