"""The concise line plus the source line, a caret under the span, the
finding's detail (why it matters, which layer, which Keras flavour: what the
one-line message leaves out), and help."""

from __future__ import annotations

import re
from typing import Dict, List

from ..finding import Finding
from ..specs import load_specs
from .concise import location, marked_message, paint
from .escape import printable

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Python's line breaks, as in noqa.py


_FLAVOURS = {"keras3": "Keras 3", "keras2": "Keras 2 (tf_keras)"}


def format_full(findings: List[Finding], sources: Dict[str, str], unsafe: bool = False,
                color: bool = False) -> str:
    """Each finding's concise line (with `[*]` when `--fix` would fix it),
    its source line with a caret under the span, its detail, and the rule's help."""
    specs = load_specs()
    out = []
    for f in findings:
        out.append(f"{paint(location(f), 'location', color)}: {marked_message(f, unsafe, color)}")
        lines = _LINE_BREAK.split(sources.get(f.filename, ""))
        if f.cell is not None:  # a notebook: show the cell's line, not the JSON's
            from ..notebook import cell_source
            lines = cell_source(sources.get(f.filename, ""), f.cell).splitlines()
        if 0 < f.line <= len(lines):
            raw = lines[f.line - 1]
            text = printable(raw.expandtabs(4))
            # Columns count characters; measure on the expanded (and escaped)
            # text so a tab or a control character before the span does not
            # shift the caret.
            start = len(printable(raw[:f.column - 1].expandtabs(4)))
            end = len(printable(raw[:f.end_column - 1].expandtabs(4))) if f.end_line == f.line else len(text)
            out.append(f"  {f.line:>4} | {text}")
            out.append(f"       | {' ' * start}{'^' * max(1, end - start)}")
        if f.extra.get("detail"):
            out.append(f"  = note: {f.extra['detail']}")
        if f.flavour:
            out.append(f"  = note: holds for {_FLAVOURS.get(f.flavour, f.flavour)} (see the `keras` setting)")
        spec = specs.get(f.code)
        if spec is not None:
            out.append(f"  = help: {spec.summary} (see `bnlint rule {f.code}`)")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")
