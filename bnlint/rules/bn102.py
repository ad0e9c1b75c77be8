"""BN102: a TF1 `Saver` given only the trainable variables, in a file that
builds batch norm.

The moving mean and variance of batch norm are not trainable variables
(nor in `tf.moving_average_variables()`): measured on tf_keras 2.21,
`tf.compat.v1.layers.batch_normalization` adds gamma and beta to
`trainable_variables()` and moving_mean / moving_variance only to
`global_variables()`. A checkpoint saved with
`Saver(var_list=tf.trainable_variables())` lacks them, and a model restored
from it normalises with mean 0 and variance 1.

A file that also has a Saver of every variable (no `var_list`, or
`global_variables()`) saves the moving statistics there: its
trainable-only Saver is then taken to serve another purpose (a part of the
model restored for transfer, an encoder checkpoint) and is not reported
(measured on the evaluation repositories: 4 such savers held no batch
norm variable at all, MasazI/gan_basic `task_ano.py`).

Fix (unsafe): `<tf>.trainable_variables()` -> `<tf>.global_variables()`
(the checkpoint then also holds optimizer slots and counters, which code
that restores it with a fixed variable list may not expect).
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Optional

from ..semantic import SemanticModel
from ..semantic.scopes import BindingKind, ScopeKind
from .base import Rule, kwarg, last, words
from .tables import family_tables


class Variant(Enum):
    DEFAULT = "default"


class SaverTrainableOnly(Rule):
    code = "BN102"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        return (re.compile(words({last(n) for n in t.savers})),
                re.compile(words({last(n) for n in t.trainable_variable_lists} | t.trainable_collection_keys)))

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        return "Saver" in model.scopes.attr_names or any(r.endswith(".Saver") for r in model.scopes.imported)

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        found = []  # the trainable-only lists first: looking for batch norm may parse other modules
        saves_all = False
        for site in ctx.scopes.sites:
            if ctx.values.qualify(site.call.func) not in t.savers:
                continue
            var_list = kwarg(site.call, "var_list")
            value = var_list.value if var_list is not None else (site.call.args[0] if site.call.args else None)
            if value is None:
                saves_all = True  # Saver() saves every saveable variable
                continue
            if isinstance(value, ast.Starred):
                continue
            if self._every_variable(value, 0):
                saves_all = True
                continue
            source = self._trainable_only(value, 0)
            if source is not None:
                found.append((value, source))
        if not found or saves_all:
            return
        where = self._batch_norm_built(ctx.values, 0, set())
        if where is None:
            return
        for value, source in found:
            self.report(value, Variant.DEFAULT, built=where, context={"source": source, "direct": source is value})

    def _builds(self, values, call: ast.Call) -> bool:
        """Does this call build batch norm itself (a TF1 builder, also as
        `normalizer_fn=`, or a Keras BatchNormalization)?"""
        api = self.ctx.api
        q = values.qualify(call.func)
        if q is not None and (api.tf1_builder(q) is not None or api.is_batch_norm_layer(q)):
            return True
        return any(k.arg == "normalizer_fn" and api.tf1_builder(values.qualify(k.value) or "") is not None
                   for k in call.keywords)

    def _batch_norm_built(self, values, depth: int, seen: set) -> Optional[str]:
        """Where the program builds batch norm: "line N" in this file, "in
        `mod`" in a function or class of the user's project that the file
        calls (followed through that module's own calls, two imports deep),
        or None."""
        for site in values.scopes.sites:
            if self._builds(values, site.call):
                return f"on line {self.line_of(site.call)}"
        for site in values.scopes.sites:
            q = values.qualify(site.call.func)
            found = self._elsewhere(values, q, 1, seen) if q else None
            if found is not None:
                return f"in `{found}`"
        return None

    def _elsewhere(self, values, q: str, depth: int, seen: set) -> Optional[str]:
        """The module of the user's project where the function or class `q`
        (or what it calls) builds batch norm, or None."""
        target = values.external_target(q)
        if target is None or depth > 2:
            return None
        other, attr = target
        start = other.module_definition(attr)
        if start is None:
            return None
        todo = list(start.methods.values()) if start.kind is ScopeKind.CLASS else [start]
        while todo and len(seen) < 200:
            fn = todo.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            for inner in fn.calls:
                if self._builds(other, inner):
                    return q.rsplit(".", 1)[0].lstrip(".")
                local = other.definition(inner.func)
                if local is not None:
                    todo += list(local.methods.values()) if local.kind is ScopeKind.CLASS else [local]
                    continue
                iq = other.qualify(inner.func)
                found = self._elsewhere(other, iq, depth + 1, seen) if iq else None
                if found is not None:
                    return found
        return None

    def _every_variable(self, expr: ast.AST, depth: int) -> bool:
        """Is `expr` a list of every variable (`global_variables()`, the
        GLOBAL_VARIABLES collection, through names and `list()`)?"""
        t = family_tables(self.ctx.api)
        if depth > 4:
            return False
        if isinstance(expr, ast.Call):
            q = self.ctx.values.qualify(expr.func)
            if q in t.global_variable_lists:
                return True
            if q in t.collection_getters and expr.args and _key(expr.args[0]) in t.global_collection_keys:
                return True
            if isinstance(expr.func, ast.Name) and expr.func.id in ("list", "sorted", "tuple") \
                    and len(expr.args) == 1 and not self.ctx.names.bindings_of(expr.func):
                return self._every_variable(expr.args[0], depth + 1)
            return False
        if isinstance(expr, ast.Name):
            found = self.ctx.names.bindings_of(expr)
            return bool(found) and all(b.kind is BindingKind.ASSIGNMENT and b.value is not None
                                       and self._every_variable(b.value, depth + 1) for b in found)
        return False

    def _trainable_only(self, expr: ast.AST, depth: int) -> Optional[ast.AST]:
        """The call listing trainable variables that `expr` is made of only,
        or None when `expr` may hold other variables."""
        t = family_tables(self.ctx.api)
        if depth > 4:
            return None
        if isinstance(expr, ast.Call):
            q = self.ctx.values.qualify(expr.func)
            if q in t.trainable_variable_lists:
                return expr
            if q in t.collection_getters and expr.args and _key(expr.args[0]) in t.trainable_collection_keys:
                return expr
            if isinstance(expr.func, ast.Name) and expr.func.id in ("list", "sorted", "tuple") \
                    and len(expr.args) == 1 and not self.ctx.names.bindings_of(expr.func):
                return self._trainable_only(expr.args[0], depth + 1)
            return None
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)) and len(expr.generators) == 1:
            gen = expr.generators[0]
            if isinstance(gen.target, ast.Name) and isinstance(expr.elt, ast.Name) and expr.elt.id == gen.target.id:
                return self._trainable_only(gen.iter, depth + 1)  # a filter keeps only trainable ones
            return None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self._trainable_only(expr.left, depth + 1)
            return left if left is not None and self._trainable_only(expr.right, depth + 1) is not None else None
        if isinstance(expr, ast.Name):
            found = self.ctx.names.bindings_of(expr)
            if not found or any(b.kind is not BindingKind.ASSIGNMENT for b in found):
                return None
            results = [self._trainable_only(b.value, depth + 1) for b in found]
            return results[0] if all(r is not None for r in results) else None
        return None


def _key(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.upper()
    return None


def fix_default(fctx, report):
    """`tf.trainable_variables()` -> `tf.global_variables()` (unsafe)."""
    import libcst as cst

    from ..finding import Fix

    source = report.context["source"]
    if not report.context["direct"]:
        return None  # the list is built elsewhere and may serve other uses (gradients)
    if not isinstance(source.func, ast.Attribute) or source.func.attr != "trainable_variables" or source.args \
            or source.keywords:
        return None
    call = fctx.locate(source, cst.Call)
    if call is None or not isinstance(call.func, cst.Attribute):
        return None
    new = call.with_changes(func=call.func.with_changes(attr=cst.Name("global_variables")))
    return Fix("Save `global_variables()`", "unsafe", fctx.edits({call: new}))


SaverTrainableOnly.fixers = {Variant.DEFAULT: fix_default}
