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


_NEWLINES = ("\r\n", "\r", "\n")


def _line_breaks(text: str) -> int:
    """Line breaks in `text`: \\n, \\r\\n and a lone \\r each count one."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def statement_offsets(module: cst.Module, source: str) -> Optional[Dict[int, Tuple[int, int]]]:
    """id(top-level statement) -> (start, end) in `source`, or None when the
    rendered pieces are not the source, piece by piece (then the whole
    module is rendered).

    Checked text by text, not by length: libcst's own idea of the final
    newline is wrong for a file ending in a lone CR (it drops that CR when
    rendering the module), so `module.code` and `has_trailing_newline` are
    not trusted. A source without a final newline is the one allowed
    difference: its last piece renders with the module's newline added.
    """
    global _OFFSETS
    last, table = _OFFSETS
    if last is module:
        return table
    pieces = [(None, line) for line in module.header] + [(id(s), s) for s in module.body] \
        + [(None, line) for line in module.footer]
    pos, table = 0, {}
    for i, (key, node) in enumerate(pieces):
        code = module.code_for_node(node)
        end = pos + len(code)
        if not source.startswith(code, pos):
            final = i == len(pieces) - 1 and not source.endswith(_NEWLINES) \
                and code == source[pos:] + module.default_newline
            if not final:
                table = None
                break
        if key is not None:
            table[key] = (pos, end)
        pos = end
    if table is not None and pos < len(source):
        table = None  # text after the last piece that no piece renders
    _OFFSETS = (module, table)
    return table


def _whole_module_edit(module: cst.Module, source: str, old: cst.CSTNode, new: cst.CSTNode) -> Edit:
    """The edit from rendering the whole module before and after. Valid only
    where the old rendering is the source: the same text, or the same
    but for final line breaks libcst dropped, outside the edit."""
    before = module.code
    edit = minimal_edit(before, module.deep_replace(old, new).code)
    if before == source:
        return edit
    rest = source[len(before):]
    if source.startswith(before) and rest and not rest.strip("\r\n") and edit.end < len(before):
        return edit
    raise ValueError("libcst does not render this file back to its own text; no edit")


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
            if _line_breaks(new_text) == _line_breaks(old_text):
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
    return _whole_module_edit(module, source, old, new)


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
