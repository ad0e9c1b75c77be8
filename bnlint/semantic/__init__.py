"""The semantic model of one module, built once from one `ast` parse.

`SemanticModel.build(tree, ...)` gives the scopes and bindings
(scopes.py), qualified names through them (resolve.py), the call graph
(callgraph.py), Keras value inference (values.py) and the user's sibling
modules (project.py). Rules (bnlint/rules/) and the pre-filter query it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from ..api import Api
from .callgraph import CallGraph
from .project import Project
from .resolve import Resolver
from .scopes import Scopes
from .values import Values


def _sys_path_entries(scopes: Scopes, names: Resolver) -> tuple:
    """The string literals the module adds to `sys.path`
    (`sys.path.append('utils')`, `sys.path.insert(0, 'lib')`)."""
    out = []
    for site in scopes.sites:
        call = site.call
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("append", "insert")):
            continue
        if names.qualify(func) not in ("sys.path.append", "sys.path.insert") or call.keywords:
            continue
        arg = call.args[-1] if call.args else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and len(arg.value) < 300:
            out.append(arg.value)
    return tuple(dict.fromkeys(out))


@dataclass
class SemanticModel:
    tree: ast.Module
    api: Api
    scopes: Scopes
    names: Resolver
    values: Values
    project: Optional[Project] = field(default=None)

    @property
    def graph(self) -> CallGraph:
        return self.values.graph

    @classmethod
    def build(cls, tree: ast.Module, api: Api, filename: str = "") -> "SemanticModel":
        """One traversal of `tree`; the project view follows imports of
        sibling modules of `filename` (none for "" / "-")."""
        scopes = Scopes(tree, api.keras_evidence)
        names = Resolver(scopes, api)
        project = Project(filename, api, path_entries=_sys_path_entries(scopes, names))
        values = Values(scopes, names, api, project, filename)
        return cls(tree, api, scopes, names, values, project)
