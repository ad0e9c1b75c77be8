"""Where a libcst node sits: its parents, its place in the source.

A finding comes from `ast` with a span; its fix is written on libcst. A
`Located` module finds the libcst node by that span and tells where a node
sits, computing positions and parents only inside the top-level statements
that hold findings (libcst's PositionProvider over a whole module costs
several parses; one statement costs its own size). A statement holding a
thousand findings is indexed once, so fixes stay linear in findings.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

_FIELDS: Dict[type, List[str]] = {}
_NEWLINE = re.compile(r"\r\n|\r|\n")


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


def _parent_map(root: cst.CSTNode) -> Dict[int, cst.CSTNode]:
    table: Dict[int, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in _children(node):
            table[id(child)] = node
            stack.append(child)
    return table


def _positions(module: cst.Module) -> Dict[cst.CSTNode, "object"]:
    """libcst's PositionProvider ranges (1-based lines, 0-based character
    columns, whitespace the syntax does not need left out) of every node
    of `module`. The provider is run by itself: libcst's MetadataWrapper
    would also walk the whole tree once more for batchable providers,
    even when none is asked for (measured: a third of the cost)."""
    from libcst.metadata import PositionProvider

    provider = PositionProvider()
    provider._gen_impl(module)
    return provider._computed


class _Statement:
    """Positions (absolute) and parents of one top-level statement."""

    def __init__(self, located: "Located", stmt: cst.CSTNode, start: int) -> None:

        line0 = located.line_of(start) - 1  # lines before the statement's own text
        if stmt is located.module:  # the pieces did not add up: the whole module
            sub = stmt
        else:
            sub = cst.Module(body=[stmt], header=[], footer=[], default_indent=located.module.default_indent,
                             default_newline=located.module.default_newline)
        table = _positions(sub)
        self.pos: Dict[int, Tuple[int, int, int, int]] = {}
        self.by_start: Dict[tuple, List[cst.CSTNode]] = {}
        self.nodes: Dict[int, cst.CSTNode] = {}
        for node, p in table.items():
            span = (p.start.line + line0, p.start.column, p.end.line + line0, p.end.column)
            self.pos[id(node)] = span
            self.nodes[id(node)] = node
            self.by_start.setdefault((type(node), span[0], span[1]), []).append(node)
        self.stmt = stmt
        self._parents: Optional[Dict[int, cst.CSTNode]] = None

    @property
    def parents(self) -> Dict[int, cst.CSTNode]:
        """id(node) -> its parent, made when first asked (most fixes never ask)."""
        if self._parents is None:
            self._parents = _parent_map(self.stmt)
        return self._parents


class Located:
    """A libcst module with its source, indexed lazily per top-level statement."""

    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.source = source
        self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]
        self._starts: Optional[List[int]] = None
        self._stmts: List[cst.CSTNode] = []
        self._index: Dict[int, _Statement] = {}
        self._stmt_of: Dict[int, cst.CSTNode] = {}  # id(node) -> its top-level statement

    # -- lines and offsets -------------------------------------------------------
    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def offset(self, line: int, column: int) -> int:
        return self._line_starts[line - 1] + column if 0 < line <= len(self._line_starts) else len(self.source)

    def _top_level(self) -> bool:
        if self._starts is None:
            from .edits import statement_offsets

            table = statement_offsets(self.module, self.source)
            self._starts, self._stmts = [], []
            if table is not None:
                for stmt in self.module.body:
                    self._starts.append(table[id(stmt)][0])
                    self._stmts.append(stmt)
            else:
                self._starts, self._stmts = [0], [self.module]
        return bool(self._stmts)

    def _statement(self, stmt: cst.CSTNode, start: int) -> _Statement:
        info = self._index.get(id(stmt))
        if info is None:
            info = self._index[id(stmt)] = _Statement(self, stmt, start)
            self._stmt_of.update(dict.fromkeys(info.nodes, stmt))
        return info

    # -- queries -----------------------------------------------------------------
    def locate(self, span: tuple, kind: type) -> Optional[cst.CSTNode]:
        """The smallest node of type `kind` whose range holds `span` =
        (line, column, end_line, end_column): lines 1-based, columns 0-based
        characters (an `ast` node's span after byte -> character conversion)."""
        if not self._top_level():
            return None
        k = bisect.bisect_right(self._starts, self.offset(span[0], span[1])) - 1
        if k < 0:
            return None
        info = self._statement(self._stmts[k], self._starts[k])
        want_start, want_end = (span[0], span[1]), (span[2], span[3])

        def size_if_holds(node):
            p = info.pos[id(node)]
            if (p[0], p[1]) <= want_start and want_end <= (p[2], p[3]):
                return (p[2] - p[0], p[3] - p[1])
            return None

        exact = [n for n in info.by_start.get((kind, span[0], span[1]), ()) if size_if_holds(n) is not None]
        if exact:
            return min(exact, key=size_if_holds)
        best, best_size = None, None
        for node in info.nodes.values():
            if isinstance(node, kind):
                size = size_if_holds(node)
                if size is not None and (best is None or size < best_size):
                    best, best_size = node, size
        return best

    def _info_of(self, node: cst.CSTNode) -> Optional[_Statement]:
        stmt = self._stmt_of.get(id(node))
        return self._index.get(id(stmt)) if stmt is not None else None

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """The parents of `node`, nearest first, up to the module."""
        info = self._info_of(node)
        if info is None:
            table = self.__dict__.get("_all_parents")
            if table is None:
                table = self.__dict__["_all_parents"] = _parent_map(self.module)
        else:
            table = info.parents
        current, last = table.get(id(node)), None
        while current is not None:
            yield current
            current, last = table.get(id(current)), current
        if info is not None and last is not self.module:
            yield self.module

    def node_range(self, node: cst.CSTNode) -> Optional[Tuple[int, int]]:
        """(start, end) character offsets of a located statement's node."""
        info = self._info_of(node)
        if info is None:
            return None
        p = info.pos[id(node)]
        return self.offset(p[0], p[1]), self.offset(p[2], p[3])
