"""GitHub Actions workflow commands: one annotation per finding, `::error` or
`::warning` as the rule's spec says (its `severity`).

Printed to a job's log, each line becomes an annotation on the file and line
in the run summary and the pull request diff. Paths must be relative to the
repository root, which they are when bnlint runs from it. A notebook finding
points at the line of the .ipynb file that holds the cell's line (where
nbformat put it on a line of its own); the title names the cell.
"""

from __future__ import annotations

import os
from typing import Dict, List

from ..finding import Finding
from ..specs import severity_of
from .escape import printable
from .filenames import text_name


def _data(text: str) -> str:
    """Escaped for a workflow command: control characters first (they would
    reach the job log's terminal emulation), then the command's own `%`."""
    return printable(text).replace("%", "%25")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    title = f"{f.code} {f.name}".strip()
    props = [f"file={_property(text_name(os.path.normpath(f.filename)))}"]  # `./a.py` -> `a.py`
    if f.cell is None:
        props += [f"line={f.line}", f"col={f.column}"]
        if f.end_line == f.line:
            props.append(f"endColumn={f.end_column}")
        else:
            props.append(f"endLine={f.end_line}")
    else:
        title += f" (cell {f.cell}, line {f.line}, column {f.column})"
        if "ipynb_line" in f.extra:
            props.append(f"line={f.extra['ipynb_line']}")
    props.append(f"title={_property(title)}")
    return f"::{severity_of(f.code)} {','.join(props)}::{_data(f.message)}"


def format_github(findings: List[Finding], sources: Dict[str, str]) -> str:
    return "".join(annotation(f) + "\n" for f in findings)
