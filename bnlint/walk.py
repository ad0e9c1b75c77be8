"""A faster walk over a libcst tree for read-only passes.

libcst's own `visit` rebuilds every node as it goes, which costs about as
much as the parse; the file-wide passes (indexing, finding tape calls) only
read. This walks the dataclass fields instead, skips whitespace and
punctuation nodes, and calls the same `visit_<Node>` / `leave_<Node>`
methods a `cst.CSTVisitor` would (a `visit_` returning False skips the
children; `leave_` is still called). Children come in field order, which
is source order except that decorators come after a def's body.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Tuple

import libcst as cst

_SKIP = (
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
    cst.Newline, cst.Comment, cst.LeftParen, cst.RightParen, cst.Comma, cst.Dot,
    cst.AssignEqual, cst.Colon, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Semicolon,
)
_FIELDS: Dict[type, Tuple[str, ...]] = {}
_LEAVE = object()


def _children(node: cst.CSTNode):
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    kids = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if not isinstance(value, _SKIP):
                kids.append(value)
        elif isinstance(value, (list, tuple)):
            kids.extend(v for v in value if isinstance(v, cst.CSTNode) and not isinstance(v, _SKIP))
    return kids


def walk(root: cst.CSTNode, visitor: object) -> None:
    """Visit `root` and everything under it with `visitor`'s visit_/leave_ methods."""
    handlers: Dict[type, tuple] = {}
    stack: list = [root]
    while stack:
        item = stack.pop()
        if item is _LEAVE:
            node = stack.pop()
            leave = handlers[type(node)][1]
            if leave is not None:
                leave(node)
            continue
        node = item
        kind = type(node)
        pair = handlers.get(kind)
        if pair is None:
            name = kind.__name__
            pair = handlers[kind] = (getattr(visitor, "visit_" + name, None),
                                     getattr(visitor, "leave_" + name, None))
        visit, leave = pair
        descend = visit(node) if visit is not None else None
        if leave is not None:
            stack.append(node)
            stack.append(_LEAVE)
        if descend is not False:
            stack.extend(reversed(_children(node)))
