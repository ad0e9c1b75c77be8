"""Where a node sits: parents, the enclosing function and statement.

Checkers hand fixers the node they report; the fix often has to change
something around it (a signature, the whole statement), so fixers need the
way up. The parent map is built once per module and kept while the module
is being fixed.
"""

from __future__ import annotations

from typing import Dict, Iterator, Optional

import libcst as cst

# The last module asked about and its map. Nodes have no weak references,
# and findings are fixed one file at a time, so one entry is enough; holding
# the module keeps the ids in the map valid.
# Replaced as one tuple, so a reader in another thread sees a consistent pair.
_LAST: tuple = (None, None)


class _ParentMap(cst.CSTVisitor):
    def __init__(self) -> None:
        self.parents: Dict[int, cst.CSTNode] = {}
        self.order: Dict[int, int] = {}  # id(node) -> rank in source order
        self.stack = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.parents[id(node)] = self.stack[-1]
        self.order[id(node)] = len(self.order)
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


def _tables(module: cst.Module) -> _ParentMap:
    global _LAST
    last_module, tables = _LAST
    if last_module is not module:
        tables = _ParentMap()
        module.visit(tables)
        _LAST = (module, tables)
    return tables


def parents(module: cst.Module) -> Dict[int, cst.CSTNode]:
    """id(node) -> parent node, for every node of `module`."""
    return _tables(module).parents


def comes_before(module: cst.Module, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """`first` starts earlier in the source than `second` and does not contain it."""
    order = _tables(module).order
    return order[id(first)] < order[id(second)] \
        and not any(up is first for up in ancestors(module, second))


def ancestors(module: cst.Module, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The parents of `node`, nearest first, up to the module."""
    table = parents(module)
    current = table.get(id(node))
    while current is not None:
        yield current
        current = table.get(id(current))


def enclosing_function(module: cst.Module, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
    for up in ancestors(module, node):
        if isinstance(up, cst.FunctionDef):
            return up
        if isinstance(up, (cst.ClassDef, cst.Lambda)):
            return None
    return None
