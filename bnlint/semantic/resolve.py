"""Qualified names through bindings: `tf.keras.layers.Dropout` at a point
-> "keras.layers.Dropout".

The head name of a dotted expression is looked up in the scopes (the
binding in force where it is read, scopes.Scopes.lookup); an import gives
its module path, an alias assignment (`tf = tf.compat.v1`, `L =
keras.layers`) the path of its value, anything else (a def, a parameter, a
loop variable) means the name is the user's own and has no qualified name.
The result is folded onto api.yaml's canonical spelling (ruff's
`resolve_qualified_name` does the same walk over its bindings).
"""

from __future__ import annotations

import ast
from typing import Dict, Optional, Tuple

from ..api import Api
from .scopes import Binding, BindingKind, Scope, Scopes, start

_MAX_ALIAS_DEPTH = 8


def dotted(node: ast.AST) -> Optional[str]:
    """`a.b.c` as a string, or None when the expression is not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def head(node: ast.AST) -> Optional[ast.Name]:
    """The Name a dotted expression starts with."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node if isinstance(node, ast.Name) else None


class Resolver:
    """Qualified names for the expressions of one module."""

    def __init__(self, scopes: Scopes, api: Api) -> None:
        self.scopes = scopes
        self.api = api
        self.star_modules = sorted(set(scopes.star_modules))
        self._known = api.all_known_names()
        self._memo: Dict[int, Optional[str]] = {}
        self._qualified: Dict[int, Optional[str]] = {}  # id(node) -> qualify's answer
        self._folded: Dict[str, str] = {}  # raw name -> api.canonical of it
        self._conventional = dict(api.conventional_imports)
        # conventional names read unbound (`tf` in an exported notebook cell)
        self.assumed: Dict[str, str] = {}

    # -- bindings ----------------------------------------------------------------
    def bindings_of(self, name: ast.Name) -> list:
        """Bindings that may be in force where this Name is read."""
        ctx = self.scopes.name_ctx.get(id(name))
        if ctx is None:
            return self.scopes.lookup(name.id, self.scopes.module)
        scope, blocks = ctx
        return self.scopes.lookup(name.id, scope, start(name), blocks)

    def _binding_path(self, binding: Binding, depth: int) -> Optional[str]:
        if binding.kind is BindingKind.IMPORT:
            return binding.qualified
        if binding.kind is BindingKind.ASSIGNMENT and depth < _MAX_ALIAS_DEPTH \
                and isinstance(binding.value, (ast.Name, ast.Attribute)):
            raw = self._raw(binding.value, depth + 1)
            if raw is not None and raw.split(".")[0] in self.api.tracked_roots:
                return raw
        return None

    # -- queries -------------------------------------------------------------------
    def raw(self, node: ast.AST) -> Optional[str]:
        """The qualified name as imported (before canonical folding), or None."""
        key = id(node)
        if key not in self._memo:
            self._memo[key] = self._raw(node, 0)
        return self._memo[key]

    def _raw(self, node: ast.AST, depth: int) -> Optional[str]:
        name = dotted(node)
        if name is None:
            return None
        first = head(node)
        rest = name[len(first.id) + 1:]
        found = self.bindings_of(first)
        for binding in found:
            base = self._binding_path(binding, depth)
            if base is not None:
                return f"{base}.{rest}" if rest else base
        if found:
            return None  # the user's own name
        if rest and first.id in self.api.star_submodules:
            # `from tensorflow import *` then `keras.layers.X`
            for module in self.star_modules:
                if module.split(".")[0] in self.api.tracked_roots:
                    return f"{module}.{name}"
        if not rest and self.star_modules:
            for module in self.star_modules:
                candidate = self.api.canonical(f"{module}.{name}")
                if candidate in self._known:
                    return f"{module}.{name}"
        if first.id in self._conventional and not self.star_modules:
            base = self._conventional[first.id]
            self.assumed[first.id] = base
            return f"{base}.{rest}" if rest else base
        return None

    def qualify(self, node: ast.AST) -> Optional[str]:
        """Canonical qualified name of a dotted expression, or None; kept
        per node (rules ask the same node many times: 99k asks, 36k nodes
        over the TF-heavy corpus), and the fold onto api.yaml's spelling kept
        per raw spelling."""
        key = id(node)
        try:
            return self._qualified[key]
        except KeyError:
            raw = self.raw(node)
            found = None
            if raw is not None:
                found = self._folded.get(raw)
                if found is None:
                    found = self._folded[raw] = self.api.canonical(raw)
            self._qualified[key] = found
            return found

    def uses_module(self, *prefixes: str) -> bool:
        """Does the module import anything under one of these module paths?"""
        return any(raw == p or raw.startswith(p + ".") for raw in self.scopes.imported for p in prefixes)

    def module_aliases(self) -> Dict[str, str]:
        """Module-level names of imports and aliases (`v1 = tf.compat.v1`)
        -> the module path they stand for (the last binding wins)."""
        out: Dict[str, str] = {}
        for name, bindings in self.scopes.module.bindings.items():
            path = self._binding_path(bindings[-1], 0)
            if path:
                out[name] = path
        return out

    def local_target(self, name: ast.Name) -> Tuple[Optional[Scope], list]:
        """(the class or function scope a name is bound to by def/class in
        force where it is read, all its bindings)."""
        found = self.bindings_of(name)
        for b in found:
            if b.kind is BindingKind.DEFINITION:
                return b.defines, found
        return None, found
