"""Where a node sits: parents, the enclosing function, what comes first.

Checkers hand fixers the node they report; the fix often has to change
something around it (a signature, the whole statement), so fixers need the
way up. The parent map is built once per module, by a plain walk over the
node fields (about twice as fast as a CSTVisitor), and kept while the
module is being fixed.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Optional

import libcst as cst

# The last module asked about and its map. Nodes have no weak references,
# and findings are fixed one file at a time, so one entry is enough; holding
# the module keeps the ids in the map valid. Replaced as one tuple, so a
# reader in another thread sees a consistent pair.
_LAST: tuple = (None, None)
_FIELDS: Dict[type, List[str]] = {}


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = [f.name for f in dataclasses.fields(node)]
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def parents(module: cst.Module) -> Dict[int, cst.CSTNode]:
    """id(node) -> parent node, for every node of `module`."""
    global _LAST
    last_module, table = _LAST
    if last_module is not module:
        table = {}
        stack = [module]
        while stack:
            node = stack.pop()
            for child in _children(node):
                table[id(child)] = node
                stack.append(child)
        _LAST = (module, table)
    return table


def ancestors(module: cst.Module, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The parents of `node`, nearest first, up to the module."""
    table = parents(module)
    current = table.get(id(node))
    while current is not None:
        yield current
        current = table.get(id(current))


def comes_before(module: cst.Module, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """`first` is written before `second` and does not contain it."""
    up_first = [first] + list(ancestors(module, first))
    up_second = [second] + list(ancestors(module, second))
    ids_first = {id(n): i for i, n in enumerate(up_first)}
    for j, node in enumerate(up_second):
        i = ids_first.get(id(node))
        if i is None:
            continue
        if i == 0 or j == 0:
            return False  # one contains the other
        order = [id(c) for c in node.children]  # syntactic order
        return order.index(id(up_first[i - 1])) < order.index(id(up_second[j - 1]))
    return False


def enclosing_function(module: cst.Module, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
    for up in ancestors(module, node):
        if isinstance(up, cst.FunctionDef):
            return up
        if isinstance(up, (cst.ClassDef, cst.Lambda)):
            return None
    return None


# The last module asked about and its node positions by (type, start)
# (see _LAST for why one entry is enough).
_POSITIONS: tuple = (None, None, None)


def locate(module: cst.Module, span: tuple, kind: type) -> Optional[cst.CSTNode]:
    """The smallest node of type `kind` whose range holds `span` =
    (line, column, end_line, end_column): lines 1-based, columns 0-based
    characters (an `ast` node's span after byte -> character conversion).
    Used to find the libcst node of a finding that `ast` reported; a node
    starting where the span starts is found in constant time."""
    global _POSITIONS
    from libcst.metadata import MetadataWrapper, PositionProvider

    last_module, table, by_start = _POSITIONS
    if last_module is not module:
        table = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        by_start = {}
        for node, pos in table.items():
            by_start.setdefault((type(node), pos.start.line, pos.start.column), []).append(node)
        _POSITIONS = (module, table, by_start)
    want_start, want_end = (span[0], span[1]), (span[2], span[3])

    def size_if_holds(node):
        pos = table[node]
        start, end = (pos.start.line, pos.start.column), (pos.end.line, pos.end.column)
        if start <= want_start and want_end <= end:
            return (end[0] - start[0], end[1] - start[1])
        return None

    exact = [n for n in by_start.get((kind, span[0], span[1]), ()) if size_if_holds(n) is not None]
    if exact:
        return min(exact, key=size_if_holds)
    best, best_size = None, None
    for node in table:
        if isinstance(node, kind):
            size = size_if_holds(node)
            if size is not None and (best is None or size < best_size):
                best, best_size = node, size
    return best
