"""`path:line:col: CODE message`, one line a finding (flake8/ruff style)."""

from __future__ import annotations

from typing import Dict, List

from ..finding import Finding
from .escape import printable


def format_concise(findings: List[Finding], sources: Dict[str, str]) -> str:
    return "".join(f"{printable(f.location())}: {printable(f.code)} {printable(f.message)}\n" for f in findings)
