"""CST changes -> text edits.

A fixer builds changed nodes; the edit is found by rendering the module
with one node swapped and trimming the common prefix and suffix against
the original text. Whatever libcst renders unchanged stays byte-identical,
so an edit can never touch text outside the node it replaces.
"""

from __future__ import annotations

from typing import Dict, Tuple

import libcst as cst

from ..finding import Edit


def minimal_edit(old: str, new: str) -> Edit:
    """The one span where `old` and `new` differ (prefix/suffix trimmed)."""
    n = min(len(old), len(new))
    start = 0
    while start < n and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return Edit(start, end_old, new[start:end_new])


def node_edits(module: cst.Module, source: str,
               changes: Dict[cst.CSTNode, cst.CSTNode]) -> Tuple[Edit, ...]:
    """One edit per replaced node, each computed against the original text.

    The replaced nodes must not contain one another; their edits then do not
    overlap and can be applied together.
    """
    edits = []
    for old, new in changes.items():
        if old is new:
            continue
        rendered = module.deep_replace(old, new).code
        if rendered == source:
            continue
        edits.append(minimal_edit(source, rendered))
    return tuple(sorted(edits, key=lambda e: (e.start, e.end)))
