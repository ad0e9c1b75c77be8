"""CST changes -> text edits.

A fixer builds changed nodes; the edit is found by rendering the top-level
statement that holds the change, old and new, and trimming their common
prefix and suffix. Whatever libcst renders unchanged stays byte-identical,
so an edit never touches text outside the node it replaces. Only the path
from the node up to its statement is rebuilt, and only that statement is
rendered again: a fix costs about as much as its statement, not the file.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

import libcst as cst

from ..finding import Edit
# Offsets of the top-level statements of the last module asked about
# (replaced as one tuple, so a reader in another thread sees a consistent pair).
_OFFSETS: tuple = (None, None)


def minimal_edit(old: str, new: str, base: int = 0) -> Edit:
    """The one span where `old` and `new` differ (prefix/suffix trimmed),
    shifted by `base` (where `old` starts in the file)."""
    n = min(len(old), len(new))
    start = 0
    while start < n and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return Edit(base + start, base + end_old, new[start:end_new])


def statement_offsets(module: cst.Module, source: str) -> Optional[Dict[int, Tuple[int, int]]]:
    """id(top-level statement) -> (start, end) in `source`, or None when the
    pieces do not add up to the source (then the whole module is rendered)."""
    global _OFFSETS
    last, table = _OFFSETS
    if last is module:
        return table
    pos = sum(len(module.code_for_node(line)) for line in module.header)
    table = {}
    for stmt in module.body:
        size = len(module.code_for_node(stmt))
        table[id(stmt)] = (pos, pos + size)
        pos += size
    pos += sum(len(module.code_for_node(line)) for line in module.footer)
    # A module without a final newline drops the one its last statement renders.
    if pos - (0 if module.has_trailing_newline else len(module.default_newline)) != len(source):
        table = None
    _OFFSETS = (module, table)
    return table


def _with_child(parent: cst.CSTNode, old: cst.CSTNode, new: cst.CSTNode) -> cst.CSTNode:
    for f in dataclasses.fields(parent):
        value = getattr(parent, f.name)
        if value is old:
            return parent.with_changes(**{f.name: new})
        if isinstance(value, (list, tuple)) and any(v is old for v in value):
            return parent.with_changes(**{f.name: type(value)(new if v is old else v for v in value)})
    raise LookupError(f"{type(old).__name__} is not a child of {type(parent).__name__}")


def _edit(module: cst.Module, source: str, old: cst.CSTNode, new: cst.CSTNode, where) -> Edit:
    # Fast path: the node's own text, where the located statement says it
    # is, when it renders the same out of its block (the source shows that)
    # and the change adds no line (a new line would need the block's indent).
    span = where.node_range(old)
    if span is not None:
        old_text = module.code_for_node(old)
        if source[span[0]:span[0] + len(old_text)] == old_text:
            new_text = module.code_for_node(new)
            if new_text.count("\n") == old_text.count("\n"):
                return minimal_edit(old_text, new_text, span[0])
    node, replacement = old, new
    for up in where.ancestors(old):
        if up is module:
            break
        replacement = _with_child(up, node, replacement)
        node = up
    table = statement_offsets(module, source)
    span = table.get(id(node)) if table else None
    if span is not None:
        start, end = span
        edit = minimal_edit(source[start:end] if end <= len(source) else source[start:] + module.default_newline,
                            module.code_for_node(replacement), start)
        if edit.end <= len(source):
            return edit
    return minimal_edit(source, module.deep_replace(old, new).code)


def node_edits(module: cst.Module, source: str,
               changes: Dict[cst.CSTNode, cst.CSTNode], where=None) -> Tuple[Edit, ...]:
    """One edit per replaced node, each computed against the original text.

    The replaced nodes must not contain one another; their edits then do not
    overlap and can be applied together.
    """
    if where is None:
        from .tree import Located

        where = Located(module, source)
    edits = [_edit(module, source, old, new, where) for old, new in changes.items() if old is not new]
    return tuple(sorted((e for e in edits if e.start != e.end or e.text), key=lambda e: (e.start, e.end)))
