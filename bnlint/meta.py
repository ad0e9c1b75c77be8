"""bnlint's own findings (BN9xx: unreadable file, parse error, internal
error, too large): a leaf module, so that sources (notebooks) and the
engine share it without importing each other."""

from __future__ import annotations

from .finding import Finding
from .specs import load_specs


def meta_finding(code: str, filename: str, detail: str, line: int = 1, column: int = 1) -> Finding:
    """A BN9xx finding at (line, column), both 1-based."""
    spec = load_specs()[code]
    return Finding(code, spec.message("default", detail=detail), filename, line, column,
                   line, column, name=spec.name)
