"""Calls, callers and reachability inside one module.

A call's target is the function or class of this module its callee names
where it is written: a Name through the `def` / `class` binding in force
there (scopes.Scopes.lookup), `self.m(...)` through the methods of the
enclosing class and its local bases. Calling a class runs its methods.
"""

from __future__ import annotations

import ast
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from .resolve import Resolver
from .scopes import CallSite, Scope, ScopeKind, Scopes


def bound_argument(call: ast.Call, fn: Scope, param: str) -> Optional[ast.AST]:
    """The expression a call of `fn` binds to `param`, by keyword or by
    position (`self` not counted), or None when the call leaves it out."""
    for kw in call.keywords:
        if kw.arg == param:
            return kw.value
    positional = [p for p in fn.params if p != "self"]
    if param not in positional:
        return None
    plain = [a for a in call.args if not isinstance(a, ast.Starred)]
    index = positional.index(param)
    return plain[index] if index < len(plain) else None


class CallGraph:
    """Targets of the module's calls, and their callers (built on first use)."""

    def __init__(self, scopes: Scopes, resolver: Resolver) -> None:
        self.scopes = scopes
        self.names = resolver
        self._callers: Optional[Dict[int, List[Tuple[ast.Call, Scope]]]] = None
        self._targets: Dict[int, Optional[Scope]] = {}

    def class_bases(self, cls: Scope) -> List[Scope]:
        out = []
        for base in cls.bases:
            if isinstance(base, ast.Name):
                d, _ = self.names.local_target(base)
                if d is not None and d.kind is ScopeKind.CLASS and d is not cls:
                    out.append(d)
        return out

    def target(self, site: CallSite) -> Optional[Scope]:
        """The function or class of this module a call runs, if plain to see."""
        key = id(site.call)
        if key not in self._targets:
            self._targets[key] = self._target(site)
        return self._targets[key]

    def _target(self, site: CallSite) -> Optional[Scope]:
        func = site.call.func
        if isinstance(func, ast.Name):
            d, _ = self.names.local_target(func)
            return d
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "self" and site.scope.cls is not None:
            todo, seen = [site.scope.cls], set()
            while todo:
                c = todo.pop(0)
                if id(c) in seen:
                    continue
                seen.add(id(c))
                if func.attr in c.methods:
                    return c.methods[func.attr]
                todo += self.class_bases(c)
        return None

    def callers(self, target: Scope) -> List[Tuple[ast.Call, Scope]]:
        """(call, scope it is written in) for every call of `target`."""
        if self._callers is None:
            table: Dict[int, List[Tuple[ast.Call, Scope]]] = {}
            for site in self.scopes.sites:
                t = self.target(site)
                if t is not None:
                    table.setdefault(id(t), []).append((site.call, site.scope))
            self._callers = table
        return self._callers.get(id(target), [])

    def callees(self, scope: Scope) -> List[Scope]:
        """Functions and classes of this module that `scope` calls directly."""
        out = []
        for call in scope.calls:
            site = self.scopes.site_of.get(id(call))
            t = self.target(site) if site is not None else None
            if t is not None:
                out.append(t)
        return out

    def reachable(self, starts: Iterable[Tuple[Scope, object]], max_depth: int = 4,
                  follow: Optional[Callable[[Scope], bool]] = None) -> Dict[int, Tuple[Scope, object]]:
        """Scopes reached from `starts` ((scope, label) pairs, first label
        wins) through call targets, breadth first, fewer than `max_depth`
        calls deep: id(scope) -> (scope, label of the start it was reached
        from). `follow`: which targets to enter (default: all)."""
        seen: Dict[int, Tuple[Scope, object]] = {}
        frontier = list(starts)
        depth = 0
        while frontier and depth < max_depth:
            nxt: List[Tuple[Scope, object]] = []
            for scope, label in frontier:
                if id(scope) in seen:
                    continue
                seen[id(scope)] = (scope, label)
                for target in self.callees(scope):
                    if id(target) not in seen and (follow is None or follow(target)):
                        nxt.append((target, label))
            frontier, depth = nxt, depth + 1
        return seen
