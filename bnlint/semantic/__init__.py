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
        project = Project(filename, api)
        values = Values(scopes, names, api, project, filename)
        return cls(tree, api, scopes, names, values, project)
