"""Applying fixes to text: which ones may go together, and the splice.

Fixes whose edits overlap or touch cannot be applied in one pass (the
second was computed against text the first changes); they wait for the
next pass, which lints the new text again. An edit that several fixes
share (the same `training=None` added to one signature) is made once.
"""

from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple

from ..finding import Edit, Fix

APPLICABILITY = ("safe", "unsafe")


def wanted(fix: Fix, unsafe: bool) -> bool:
    return fix is not None and bool(fix.edits) and (fix.applicability == "safe" or unsafe)


def _clash(a: Edit, b: Edit) -> bool:
    """Overlapping or touching spans (two inserts at one point included)."""
    return a.start <= b.end and b.start <= a.end


def choose(fixes: Iterable[Fix]) -> Tuple[List[Fix], List[Edit]]:
    """The fixes that can be applied together (first in source order wins)
    and their edits, without duplicates."""
    taken: List[Fix] = []
    edits: List[Edit] = []
    for fix in sorted(fixes, key=lambda f: (min(e.start for e in f.edits), f.message)):
        new = [e for e in fix.edits if e not in edits]
        if any(_clash(e, old) for e in new for old in edits) or _self_clash(new):
            continue
        taken.append(fix)
        edits.extend(new)
    return taken, sorted(edits, key=lambda e: e.start)


def _self_clash(edits: Sequence[Edit]) -> bool:
    ordered = sorted(edits, key=lambda e: e.start)
    return any(a.end > b.start for a, b in zip(ordered, ordered[1:]))


def splice(text: str, edits: Sequence[Edit]) -> str:
    """`text` with non-overlapping `edits` applied (offsets into `text`)."""
    parts, at = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < at or e.end > len(text):
            raise ValueError(f"edit {e} overlaps another or runs past the end")
        parts.append(text[at:e.start])
        parts.append(e.text)
        at = e.end
    parts.append(text[at:])
    return "".join(parts)
