"""The concise line plus the source line, a caret under the span, and help."""

from __future__ import annotations

from typing import Dict, List

from ..finding import Finding
from ..specs import load_specs


def format_full(findings: List[Finding], sources: Dict[str, str]) -> str:
    specs = load_specs()
    out = []
    for f in findings:
        out.append(f"{f.filename}:{f.line}:{f.column}: {f.code} {f.message}")
        lines = sources.get(f.filename, "").splitlines()
        if 0 < f.line <= len(lines):
            text = lines[f.line - 1].expandtabs(4)
            width = len(text) - f.column + 1 if f.end_line != f.line else f.end_column - f.column
            out.append(f"  {f.line:>4} | {text}")
            out.append(f"       | {' ' * (f.column - 1)}{'^' * max(1, width)}")
        spec = specs.get(f.code)
        if spec is not None:
            out.append(f"  = help: {spec.summary} (see `bnlint rule {f.code}`)")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")
