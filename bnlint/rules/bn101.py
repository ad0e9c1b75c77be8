"""BN101: Keras BatchNormalization in TF1 graph code that relies on the
`UPDATE_OPS` collection.

Keras layers (tf.keras / keras / tf_keras) put nothing in
`tf.GraphKeys.UPDATE_OPS`: measured on tf_keras 2.21 in a
`tf.compat.v1` graph, `BatchNormalization()(x, training=True)` leaves the
collection with 0 ops, so `with
tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):` (or
`tf.group(train_op, *update_ops)`) runs nothing and the moving mean stays
0.0 after 20 steps. Its updates are in `layer.updates` (or
`model.updates`): `control_dependencies(bn.updates)` moved the mean to 0.57
in the same run.

Reported at the `control_dependencies(...)` / `group(...)` that names the
update ops, when the file is TF1 graph code, applies a Keras batch norm
layer (or a Keras model holding one) in training or with a variable mode,
and never reads `.updates`. No fix: which layers' updates to add is the
user's choice.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import List, Optional, Set

from ..semantic import SemanticModel
from ..semantic.resolve import dotted
from ..semantic.values import Contents, is_const
from .base import Rule, kwarg, words
from .flow import in_keras_call, is_graph_code
from .tables import family_tables


class Variant(Enum):
    DEFAULT = "default"


def mentions_update_ops(expr: ast.AST, keys, names: Set[str]) -> bool:
    """Does an expression name the update-ops collection (`GraphKeys.UPDATE_OPS`,
    the string "update_ops") or a name bound to something that does?"""
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute):
            if node.attr in keys or dotted(node) in names:
                return True
        elif isinstance(node, ast.Name):
            if node.id in keys or node.id in names:
                return True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.upper() in keys:
            return True
    return False


def update_op_names(ctx, keys) -> Set[str]:
    """Names (dotted) bound anywhere in the file to the update ops, to a
    fixed point (`ops = tf.get_collection(UPDATE_OPS)`, `deps = ops + [x]`)."""
    names: Set[str] = set()
    changed = True
    while changed:
        changed = False
        for target, value, _ in ctx.scopes.assigns:
            name = dotted(target)
            if name and name not in names and mentions_update_ops(value, keys, names):
                names.add(name)
                changed = True
    return names


class KerasBatchNormUpdateOps(Rule):
    code = "BN101"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        return (re.compile(words(t.update_ops_keys | {k.lower() for k in t.update_ops_keys})),
                re.compile(words({"BatchNormalization"} | t.keras_model_words)))

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        return True  # the collection may be named by a string: check() decides, in one pass

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        if t.keras_update_attributes & ctx.scopes.attr_names or not is_graph_code(ctx):
            return
        bn = self._keras_batch_norm()
        if bn is None:
            return
        keys = t.update_ops_keys
        names = update_op_names(ctx, keys)
        for site in self._idiom_sites(keys, names):
            target = bn.func
            updates = f"`{ctx.segment(target)}.updates`" if dotted(target) else "the layer's `.updates`"
            self.report(site, Variant.DEFAULT, line=self.line_of(bn), updates=updates)

    def _keras_batch_norm(self) -> Optional[ast.Call]:
        """The first call that applies a Keras batch norm layer, or a Keras
        model holding one, not with `training=False` and not inside a Keras
        `call()` (its outer call is the one that counts)."""
        ctx = self.ctx
        values = ctx.values
        api = ctx.api
        for site in ctx.scopes.sites:
            call = site.call
            func = call.func
            if values.qualify(func) is not None:
                continue  # a function or class of a module (a constructor, a tf op), not a layer instance
            training = kwarg(call, "training")
            if training is not None and is_const(training.value, False):
                continue
            if in_keras_call(ctx, site.scope):
                continue
            info = values.callee_info(func, site.scope, site.scope.cls)
            if info.contents == Contents.SENSITIVE and info.what and \
                    api.is_batch_norm_layer("keras.layers." + info.what.split(" ")[0]):
                return call
        return None

    def _idiom_sites(self, keys, names) -> List[ast.Call]:
        """`control_dependencies(<update ops>)` around a train op, and
        `group(..., <update ops>)`."""
        ctx = self.ctx
        methods = set(ctx.api.train_op_methods) | set(ctx.api.gradient_methods)
        control = ctx.api.last_names(ctx.api.control_dependency_functions)
        with_train_op = {id(w) for site in ctx.scopes.sites for w in site.withs
                         if isinstance(site.call.func, ast.Attribute) and site.call.func.attr in methods}
        out = []
        for node, _ in ctx.scopes.withs:
            if id(node) not in with_train_op:
                continue
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and _last_name(call.func) in control \
                        and mentions_update_ops(call, keys, names):
                    out.append(call)
        for site in ctx.scopes.sites:
            if ctx.values.qualify(site.call.func) in ctx.api.grouping_functions and \
                    mentions_update_ops(site.call, keys, names):
                out.append(site.call)
        return out


def _last_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""
