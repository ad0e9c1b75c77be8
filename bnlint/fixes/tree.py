"""Where a libcst node sits: its parents, its place in the source.

A finding comes from `ast` with a span; its fix is written on libcst. A
`Located` module finds the libcst node by that span and tells where a node
sits. Positions are computed only for the innermost statement that holds
the span (libcst's PositionProvider costs several parses of what it
covers; a method's one line costs its own size, not its class): `ast`'s
statement lines pick that statement, and its positions are used only when
it renders to the file's text at that line. Otherwise, or without an
`ast` tree, the whole top-level statement is indexed. Each statement is
indexed once, so a thousand findings in one block stay linear.
"""

from __future__ import annotations

import ast
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

    try:
        return _provider_positions(module)
    except (AttributeError, ImportError, TypeError):  # a libcst whose internals differ: its public API
        return dict(cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))


def _provider_positions(module: cst.Module) -> Dict[cst.CSTNode, "object"]:
    """libcst's own provider run without the wrapper (private API of libcst
    1.x: `_gen_impl`, `_computed`); raises AttributeError or TypeError if
    a libcst release changes them."""
    from libcst.metadata import PositionProvider

    provider = PositionProvider()
    provider._gen_impl(module)
    return provider._computed


def _indented_positions(stmt: cst.CSTNode, indents: List[str], module: cst.Module) -> Tuple[Dict, str]:
    """(PositionProvider ranges, rendered text) of a statement rendered
    alone at the indentation of its block (`indents`: the indent of each
    enclosing block, outermost first). Rendered so, a nested statement
    is the same text as in its file, from the start of its first line,
    so its positions differ from the file's by a whole number of lines."""
    from libcst.metadata import PositionProvider
    from libcst.metadata.position_provider import PositionProvidingCodegenState

    provider = PositionProvider()
    state = PositionProvidingCodegenState(default_indent=module.default_indent,
                                          default_newline=module.default_newline, provider=provider,
                                          indent_tokens=list(indents))
    stmt._codegen(state)
    return provider._computed, "".join(state.tokens)


def _blocks(node: cst.CSTNode, tree: ast.stmt) -> List[Tuple[cst.BaseSuite, List[ast.stmt]]]:
    """The statement blocks directly inside a compound statement, each with
    the `ast` statement list it holds; [] when the two trees do not agree
    on the statement's kind."""
    pairs: List[Tuple[cst.BaseSuite, List[ast.stmt]]] = []
    if isinstance(node, cst.If) and isinstance(tree, ast.If):
        pairs.append((node.body, tree.body))
        other = node.orelse
        if isinstance(other, cst.If):  # elif: the nested If is the only statement of ast's orelse
            if len(tree.orelse) == 1:
                pairs += _blocks(other, tree.orelse[0])
        elif isinstance(other, cst.Else):
            pairs.append((other.body, tree.orelse))
        return pairs
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.With)) and isinstance(tree, _SAME[type(node)]):
        return [(node.body, tree.body)]
    if isinstance(node, (cst.For, cst.While)) and isinstance(tree, _SAME[type(node)]):
        pairs.append((node.body, tree.body))
        if node.orelse is not None:
            pairs.append((node.orelse.body, tree.orelse))
        return pairs
    if isinstance(node, (cst.Try, cst.TryStar)) and isinstance(tree, _SAME[type(node)]):
        if len(node.handlers) != len(tree.handlers):
            return []
        pairs.append((node.body, tree.body))
        pairs += [(h.body, a.body) for h, a in zip(node.handlers, tree.handlers)]
        if node.orelse is not None:
            pairs.append((node.orelse.body, tree.orelse))
        if node.finalbody is not None:
            pairs.append((node.finalbody.body, tree.finalbody))
        return pairs
    if isinstance(node, cst.Match) and isinstance(tree, _SAME[cst.Match]) and len(node.cases) == len(tree.cases):
        return [(c.body, a.body) for c, a in zip(node.cases, tree.cases)]
    return []


_SAME: Dict[type, tuple] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef), cst.ClassDef: (ast.ClassDef,),
    cst.With: (ast.With, ast.AsyncWith), cst.For: (ast.For, ast.AsyncFor), cst.While: (ast.While,),
    cst.Try: (ast.Try,), cst.TryStar: (getattr(ast, "TryStar", ast.Try),),
    cst.Match: (getattr(ast, "Match", ast.Module),),
}


def _child_holding(body, trees: List[ast.stmt], first: int, last: int):
    """(libcst statement, its first and last `ast` statements) of the
    statement of a block whose lines hold lines first..last, or None.
    A libcst statement line holds one `ast` statement per `;` part."""
    i = 0
    for child in body:
        n = len(child.body) if isinstance(child, cst.SimpleStatementLine) else 1
        group = trees[i:i + n]
        if len(group) != n or not n:
            return None
        i += n
        lo = min([group[0].lineno] + [d.lineno for d in getattr(group[0], "decorator_list", ())])
        if lo <= first and last <= group[-1].end_lineno:
            return child, group[0], group[-1]
        if lo > last:
            return None
    return None


class _Statement:
    """Positions (absolute) of the nodes of one statement; parents within
    the top-level statement that holds it."""

    def __init__(self, top: cst.CSTNode, table: Dict, line0: int) -> None:
        self.pos: Dict[int, Tuple[int, int, int, int]] = {}
        self.by_start: Dict[tuple, List[cst.CSTNode]] = {}
        self.nodes: Dict[int, cst.CSTNode] = {}
        for node, p in table.items():
            span = (p.start.line + line0, p.start.column, p.end.line + line0, p.end.column)
            self.pos[id(node)] = span
            self.nodes[id(node)] = node
            self.by_start.setdefault((type(node), span[0], span[1]), []).append(node)
        self.stmt = top
        self._parents: Optional[Dict[int, cst.CSTNode]] = None

    @property
    def parents(self) -> Dict[int, cst.CSTNode]:
        """id(node) -> its parent, made when first asked (most fixes never ask)."""
        if self._parents is None:
            self._parents = _parent_map(self.stmt)
        return self._parents


class Located:
    """A libcst module with its source, indexed lazily per top-level statement."""

    def __init__(self, module: cst.Module, source: str, tree: Optional[ast.Module] = None) -> None:
        """`tree`: `ast.parse(source)` when at hand; with it, positions are
        computed only for the innermost statement that holds a finding."""
        self.module = module
        self.source = source
        self.tree = tree
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
            if stmt is self.module:  # the pieces did not add up: the whole module
                sub = stmt
            else:
                sub = cst.Module(body=[stmt], header=[], footer=[], default_indent=self.module.default_indent,
                                 default_newline=self.module.default_newline)
            info = self._index[id(stmt)] = _Statement(stmt, _positions(sub), self.line_of(start) - 1)
            self._stmt_of.update(dict.fromkeys(info.nodes, stmt))
        return info

    def _nested(self, span: tuple) -> Optional[_Statement]:
        """Positions of the innermost statement that holds `span`, or None
        (no tree, or not checked).

        Found by pairing libcst's blocks with `ast`'s statement lists, from
        the module's down (lines of `ast` statements say which statement
        holds the span), rendered alone at its block's indentation, and
        used only when that text is the source's text at the line `ast`
        gives, and its first and last lines are `ast`'s: otherwise the
        caller indexes the whole top-level statement, as without a tree.
        Neither needs the offsets of the other top-level statements."""
        if not isinstance(self.tree, ast.Module):
            return None
        hit = _child_holding(self.module.body, self.tree.body, span[0], span[2])
        if hit is None:
            return None
        top, tree, last = hit
        node, indents = top, []
        found = None if getattr(top, "decorators", ()) else (top, (), tree.lineno, last.end_lineno)
        while not isinstance(node, cst.SimpleStatementLine):
            for block, trees in _blocks(node, tree):
                hit = _child_holding(block.body, trees, span[0], span[2]) \
                    if isinstance(block, cst.IndentedBlock) else None
                if hit is not None:
                    break
            else:
                break
            if isinstance(node, cst.Match):  # its cases are a block of their own
                indents.append(self.module.default_indent if node.indent is None else node.indent)
            indents.append(self.module.default_indent if block.indent is None else block.indent)
            node, tree, last = hit
            if not getattr(node, "decorators", ()):  # `@` may sit lines above the line ast gives
                found = (node, tuple(indents), tree.lineno, last.end_lineno)
        if found is None:
            return None
        stmt, indents, first, last = found
        info = self._index.get(id(stmt))
        if info is None and id(stmt) not in self._index:
            info = self._index[id(stmt)] = self._render_nested(top, stmt, indents, first, last)
            if info is not None:
                self._stmt_of.update(dict.fromkeys(info.nodes, stmt))
        return info

    def _render_nested(self, top, stmt, indents, first: int, last: int) -> Optional[_Statement]:
        try:
            table, text = _indented_positions(stmt, list(indents), self.module)
        except (AttributeError, ImportError, TypeError):  # libcst internals differ: whole statement
            return None
        own = 1 + len(stmt.leading_lines)  # the rendered line of the statement's first token
        shift = first - own  # rendered line + shift = the file's line
        p = table.get(stmt)
        if p is None or p.start.line != own or p.end.line + shift != last \
                or not 0 <= shift < len(self._line_starts):
            return None
        at = self._line_starts[shift]
        if not self.source.startswith(text, at) and not (  # a file's last line may lack its line break
                text.endswith(self.module.default_newline) and not self.source.endswith(("\r", "\n"))
                and text == self.source[at:] + self.module.default_newline):
            return None
        return _Statement(top, table, shift)

    # -- queries -----------------------------------------------------------------
    def locate(self, span: tuple, kind: type) -> Optional[cst.CSTNode]:
        """The smallest node of type `kind` whose range holds `span` =
        (line, column, end_line, end_column): lines 1-based, columns 0-based
        characters (an `ast` node's span after byte -> character conversion)."""
        nested = self._nested(span)
        if nested is not None:
            found = self._smallest(nested, span, kind)
            if found is not None:
                return found
        if not self._top_level():
            return None
        k = bisect.bisect_right(self._starts, self.offset(span[0], span[1])) - 1
        if k < 0:
            return None
        return self._smallest(self._statement(self._stmts[k], self._starts[k]), span, kind)

    @staticmethod
    def _smallest(info: _Statement, span: tuple, kind: type) -> Optional[cst.CSTNode]:
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
