"""BN111: Keras 3 on JAX, `model.stateless_call(...)` without
`training=True` inside the function that `jax.grad` /
`jax.value_and_grad` differentiates (a function, or a method of the
class given as `self.compute_loss`, or a function it calls), or in the
`train_step` of a `keras.Model` subclass (the JAX backend's training step).

`stateless_call` runs the model in inference mode unless told otherwise:
measured on Keras 3.15, the returned non-trainable state keeps
moving_mean at 0.0 and two calls give identical outputs (Dropout off);
with `training=True` the moving mean moves (0.12).

Not reported: `training=` passed at all (a literal False is a choice), a
`jax.grad` with `argnums` other than 0 (gradients for inputs, not
weights), a model built in the file without BatchNormalization or Dropout.
Fix (safe): add `training=True`; the function is differentiated for the
update of the first argument (or is `train_step`), which is training.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import List

from ..semantic import SemanticModel
from ..semantic.scopes import Scope, ScopeKind
from ..semantic.values import is_const
from .base import Rule, has_star_kwargs, kwarg, last, passes_training, words
from .tables import family_tables


class Variant(Enum):
    DEFAULT = "default"


class StatelessCallWithoutTraining(Rule):
    code = "BN111"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        return (re.compile(words(t.stateless_call_methods)),
                re.compile(words({last(n) for n in t.jax_differentiators} | set(api.train_step_methods))))

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        return bool(family_tables(model.api).stateless_call_methods & model.scopes.attr_names)

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        starts: List[Scope] = []
        names = {}
        for site in ctx.scopes.sites:
            call = site.call
            if ctx.values.qualify(call.func) not in t.jax_differentiators:
                continue
            argnums = kwarg(call, "argnums")
            if argnums is not None and not (isinstance(argnums.value, ast.Constant) and argnums.value.value == 0):
                continue
            fun = kwarg(call, "fun")
            value = fun.value if fun is not None else (call.args[0] if call.args else None)
            target = ctx.values.definition(value, ScopeKind.FUNCTION) if value is not None else None
            if target is None and isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
                    and value.value.id == "self" and site.scope.cls is not None:
                target = ctx.values.method(site.scope.cls, value.attr)  # jax.grad(self.compute_loss)
            if target is not None:
                starts.append(target)
                names[id(target)] = (target.name, call)
        for cls in ctx.scopes.classes:  # a Keras model's own train_step (JAX backend)
            if ctx.values.class_kind(cls) == "model":
                for name in sorted(ctx.api.train_step_methods):
                    if name in cls.methods:
                        starts.append(cls.methods[name])
                        names[id(cls.methods[name])] = (name, None)
        if not starts:
            return
        reached = ctx.values.graph.reachable([(s, names[id(s)]) for s in starts], 4)
        for site in ctx.scopes.sites:
            call = site.call
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in t.stateless_call_methods:
                continue
            fn = site.scope.function
            if fn is None or id(fn) not in reached or has_star_kwargs(call):
                continue
            training = kwarg(call, "training")
            if training is not None and not is_const(training.value, None):
                continue
            if training is None and len(call.args) > 3 and passes_training(call):
                continue
            info = ctx.values.expr_info(func.value, site.scope, site.scope.cls)
            if info.is_keras and not info.may_hold_mode_layers:
                continue  # built here without BatchNormalization or Dropout
            start = reached[id(fn)][1]  # (name, the jax.grad call or None for train_step) it was reached from
            self.report(call, Variant.DEFAULT, fn=start[0], callee=ctx.segment(func.value),
                        differentiator=last(ctx.values.qualify(start[1].func)) if start[1] is not None
                        else f"{start[0]}()")


def fix_default(fctx, report):
    """`model.stateless_call(tv, ntv, x)` -> `... , training=True)` (safe)."""
    import libcst as cst

    from ..finding import Fix
    from ..fixes.layout import add_keyword

    call = fctx.locate(report.node, cst.Call)
    if call is None:
        return None
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "training":
            args = list(call.args)
            args[i] = arg.with_changes(value=cst.Name("True"))
            return Fix("Pass `training=True`", "safe", fctx.edits({call: call.with_changes(args=args)}))
    new = add_keyword(call, "training", cst.Name("True"))
    if new is None:
        return None
    return Fix("Pass `training=True`", "safe", fctx.edits({call: new}))


StatelessCallWithoutTraining.fixers = {Variant.DEFAULT: fix_default}
