"""Autofixes: one fixer per (rule code, message variant).

A fixer gets the FileContext and the checker's Report and returns a
`Fix` (text edits plus "safe"/"unsafe") or None. Fixers never decide
whether something is a bug; the checkers do. `apply`, `files` and
`command` apply fixes to text, to files and for the CLI.
"""

from __future__ import annotations

from typing import Optional

from ..finding import Fix
from . import bn001, bn002, bn003

FIXERS = {**bn001.FIXERS, **bn002.FIXERS, **bn003.FIXERS}


def build_fix(ctx, report) -> Optional[Fix]:
    """The fix for one report, or None when the rule or this case has none."""
    fixer = FIXERS.get((report.code, report.variant))
    if fixer is None or ctx.filename.endswith(".ipynb"):
        return None  # notebook offsets point into the joined cells, not the file
    try:
        fix = fixer(ctx, report)
    except Exception:  # a fixer bug must not cost the finding itself
        return None
    return fix if fix is not None and fix.edits else None
