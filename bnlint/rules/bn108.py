"""BN108: `training=True` on a batch norm call in a functional model, written
as a literal or arriving from a helper's parameter default.

Measured on Keras 3.15: such a model's `predict(x)` and `model(x)`
disagree, and `model(x)` at inference moves the moving statistics; under
tf_keras `predict()` itself uses batch statistics (a single image
normalises to zeros).

Precision: only calls in a scope that builds a functional model (it calls
`Input(...)` or `Model(...)`), or in a helper such a scope calls, outside
any `GradientTape` block and any Keras `call()` (BN002 reports those),
and not on data (flow.concrete_data: a literal, a library call's result,
a `for` variable over batches).
Dropout with `training=True` (Monte Carlo dropout) is not reported, and a
file that forces a Dropout-family layer on with a literal `training=True`
is taken to want stochastic inference (pix2pix's generator applies both
at test time on purpose): no BN108 there.
Fixes (unsafe: they change what the model computes, as intended):
`training=True` -> `training=None`, and a helper's `training=True` default
-> `None`.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Optional, Set

from ..semantic.callgraph import bound_argument
from ..semantic.scopes import Scope
from ..semantic.values import Contents, is_const
from .base import Rule, has_star, kwarg, last, words
from .flow import concrete_data, in_keras_call


class Variant(Enum):
    LITERAL = "literal"
    HELPER_DEFAULT = "helper_default"


_EFFECT = {
    "keras3": "inference calls use and update batch statistics",
    "keras2": "`predict()` use batch statistics",
}


class FunctionalTrainingTrue(Rule):
    code = "BN108"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        names = {last(n) for n in api.batch_norm} | {"applications"}
        return (re.compile(words(names)), re.compile(rb"training\s*=\s*True\b"))

    def check(self) -> None:
        ctx = self.ctx
        functional = self._functional_scopes()
        if not functional:
            return
        if self._forces_dropout():
            return  # stochastic inference on purpose (pix2pix): batch statistics are meant too
        tapes = {id(node) for node, _ in ctx.scopes.withs if _is_tape(ctx, node)}
        reported: Set[int] = set()
        for site in ctx.scopes.sites:
            call = site.call
            training = kwarg(call, "training")
            if training is None or in_keras_call(ctx, site.scope) or any(id(w) in tapes for w in site.withs):
                continue
            if not self._batch_norm(call, site.scope):
                continue
            flavour = ctx.flavour
            if is_const(training.value, True):
                if call.args and concrete_data(ctx, call.args[0]):
                    continue  # a run on data, not a node of the model being built
                if self._builds(site.scope, functional):
                    self.report(training, Variant.LITERAL, callee=self._callee(call),
                                effect=_EFFECT[flavour], context={"node": training.value})
                continue
            fn = site.scope.function
            if not isinstance(training.value, ast.Name) or fn is None or id(fn) in reported:
                continue
            param = training.value.id
            default = fn.params.get(param)
            if not is_const(default, True):
                continue
            omitting = [c for c, s in ctx.values.graph.callers(fn)
                        if not has_star(c) and bound_argument(c, fn, param) is None
                        and self._builds(s, functional)]
            if not omitting:
                continue
            reported.add(id(fn))
            self.report(default, Variant.HELPER_DEFAULT, fn=fn.name, param=param,
                        line=self.line_of(omitting[0]), effect=_EFFECT[flavour], context={"node": default})

    def _forces_dropout(self) -> bool:
        """Does the file call a Dropout-family layer with a literal `training=True`?"""
        ctx = self.ctx
        for site in ctx.scopes.sites:
            training = kwarg(site.call, "training")
            if training is None or not is_const(training.value, True):
                continue
            info = ctx.values.callee_info(site.call.func, site.scope, site.scope.cls)
            first = info.what.split(" ")[0] if info.what else ""
            if info.contents == Contents.SENSITIVE and first and \
                    not ctx.api.is_batch_norm_layer("keras.layers." + first):
                return True
        return False

    def _callee(self, call: ast.Call) -> str:
        func = call.func
        if isinstance(func, ast.Call):
            return last(self.ctx.segment(func.func)) + "(...)"
        return self.ctx.segment(func)

    def _batch_norm(self, call: ast.Call, scope: Scope) -> bool:
        ctx = self.ctx
        func = call.func
        q = ctx.values.qualify(func)
        if q is not None and (ctx.api.is_keras_layer(q) or q.startswith("keras.")):
            return False  # a constructor: `BatchNormalization(training=True)` is not a call of the layer
        info = ctx.values.callee_info(func, scope, scope.cls)
        return info.contents == Contents.SENSITIVE and bool(info.what) and \
            ctx.api.is_batch_norm_layer("keras.layers." + info.what.split(" ")[0])

    def _functional_scopes(self) -> Set[int]:
        ctx = self.ctx
        wanted = ctx.api.symbolic_inputs | ctx.api.functional_constructors
        out: Set[int] = set()
        for site in ctx.scopes.sites:
            if ctx.values.qualify(site.call.func) in wanted:
                out.add(id(site.scope.function or ctx.scopes.module))
        return out

    def _builds(self, scope: Optional[Scope], functional: Set[int], depth: int = 0) -> bool:
        """Does this scope, or one that calls its function (3 calls up),
        build a functional model?"""
        if scope is None:
            return False
        fn = scope.function
        if id(fn or self.ctx.scopes.module) in functional:
            return True
        if fn is None or depth >= 3:
            return False
        return any(self._builds(s, functional, depth + 1) for _, s in self.ctx.values.graph.callers(fn))


def _is_tape(ctx, with_node: ast.AST) -> bool:
    for item in with_node.items:
        expr = item.context_expr
        if isinstance(expr, ast.Call) and ctx.values.qualify(expr.func) in ctx.api.gradient_tapes:
            return True
    return False


def fix_to_none(fctx, report):
    """`True` -> `None` (the literal keyword value or the parameter default)."""
    import libcst as cst

    from ..finding import Fix

    node = fctx.locate(report.context["node"], cst.Name)
    if node is None or node.value != "True":
        return None
    message = "Replace `training=True` by `training=None`" if report.variant is Variant.LITERAL \
        else "Default `training` to `None`"
    return Fix(message, "unsafe", fctx.edits({node: cst.Name("None")}))


FunctionalTrainingTrue.fixers = {Variant.LITERAL: fix_to_none, Variant.HELPER_DEFAULT: fix_to_none}
