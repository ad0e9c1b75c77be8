"""BN103: Keras 3 functional `base(x, training=False)` whose `base` is never
frozen (`base.trainable = False`) before `fit()`.

Keras 3 functional models let the outer call's mode override a literal
`training=` on a node under `fit()` and `predict()` (keras-team/keras#20285).
Measured on Keras 3.15: a base holding BatchNormalization called as
`base(inp, training=False)` inside a functional model moves its moving mean
to 0.12 in two epochs of `fit()`; with `base.trainable = False` it stays
0.0. Keras 2 (tf_keras) honours the literal, so the rule is Keras 3 only.

Precision: the call is in a scope that builds a functional model, the
file calls `fit()`, the callee holds BatchNormalization (a pretrained
application, a model or layer built in the file), and nothing in the file
sets it (or any layer in a loop over its layers, or anything reached
through a subscript) `trainable = False`, and it was not built with
`trainable=False` nor as an application with `weights=None` (trained from
scratch, its statistics must train: there the literal is the mistake, and
Keras 3 overriding it is what the user needs). No fix: freezing a base is a modelling decision.
"""

from __future__ import annotations

import ast
import re
from enum import Enum

from ..semantic import SemanticModel
from ..semantic.resolve import dotted
from ..semantic.scopes import BindingKind
from ..semantic.values import Contents, is_const
from .base import Rule, kwarg, words
from .flow import concrete_data, in_keras_call
from .tables import family_tables


class Variant(Enum):
    DEFAULT = "default"
    LAYER = "layer"  # a layer built inline: `BatchNormalization()(x, training=False)`


class FrozenCallNotFrozen(Rule):
    code = "BN103"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        return (re.compile(rb"training\s*=\s*False\b"), re.compile(words(t.fit_methods)))

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        return bool(family_tables(model.api).fit_methods & model.scopes.attr_names)

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        wanted = ctx.api.symbolic_inputs | ctx.api.functional_constructors
        building = {id(s.scope.function or ctx.scopes.module) for s in ctx.scopes.sites
                    if ctx.values.qualify(s.call.func) in wanted}
        if not building or not any(isinstance(s.call.func, ast.Attribute) and s.call.func.attr in t.fit_methods
                                   for s in ctx.scopes.sites):
            return
        frozen = self._frozen_owners()
        if frozen is None:
            return
        for site in ctx.scopes.sites:
            call = site.call
            training = kwarg(call, "training")
            if training is None or not is_const(training.value, False):
                continue
            if id(site.scope.function or ctx.scopes.module) not in building or in_keras_call(ctx, site.scope):
                continue
            func = call.func
            if call.args and concrete_data(ctx, call.args[0]):
                continue  # `model(np.ones(...), training=False)` runs the model; it is not a node
            if ctx.class_flavour(self._raw_of(func)) != "keras3":
                continue
            q = ctx.values.qualify(func)
            if q is not None and (ctx.api.is_keras_layer(q) or q.startswith("keras.")):
                continue
            info = ctx.values.callee_info(func, site.scope, site.scope.cls)
            if info.contents != Contents.SENSITIVE or not _holds_batch_norm(ctx, info.what):
                continue
            text = dotted(func)
            if text is None:
                if isinstance(func, ast.Call) and kwarg(func, "trainable") is not None:
                    continue
                self.report(training, Variant.LAYER, flavour="keras3")
                continue
            if text in frozen or self._built_frozen(func):
                continue
            self.report(training, Variant.DEFAULT, flavour="keras3", callee=text)

    def _raw_of(self, func: ast.AST):
        """How the callee's Keras was imported, for the flavour (None: the file's)."""
        target = func.func if isinstance(func, ast.Call) else func
        if isinstance(target, ast.Name):
            for b in self.ctx.names.bindings_of(target):
                if b.kind is BindingKind.ASSIGNMENT and isinstance(b.value, ast.Call):
                    return self.ctx.names.raw(b.value.func)
        return self.ctx.names.raw(target)

    def _built_frozen(self, func: ast.AST) -> bool:
        if not isinstance(func, ast.Name):
            return False
        for b in self.ctx.names.bindings_of(func):
            if b.kind is BindingKind.ASSIGNMENT and isinstance(b.value, ast.Call):
                kw = kwarg(b.value, "trainable")
                if kw is not None and not is_const(kw.value, True):
                    return True
                weights = kwarg(b.value, "weights")
                if weights is not None and is_const(weights.value, None):
                    return True  # trained from scratch: its statistics must train (under Keras 2 this froze them)
        return False

    def _frozen_owners(self):
        """Dotted names set `trainable = <not True>` anywhere in the file;
        None when something is frozen through a subscript or call
        (`model.layers[0].trainable = False`): then it may be the base."""
        last_value = {}
        loops = {}
        for node in ast.walk(self.ctx.model.tree):
            if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
                owner = dotted(node.iter.value) if isinstance(node.iter, ast.Attribute) else None
                loops[node.target.id] = owner
        for target, value, _ in self.ctx.scopes.assigns:
            if not isinstance(target, ast.Attribute) or target.attr != "trainable":
                continue
            owner = dotted(target.value)
            frozen = not is_const(value, True)
            if owner is None:
                if frozen:
                    return None
                continue
            if owner in loops:
                if loops[owner] is None and frozen:
                    return None
                last_value[loops[owner]] = frozen  # for layer in base.layers: layer.trainable = False
            last_value[owner] = frozen  # the last assignment in the file wins (order of fit() not checked)
        return {owner for owner, frozen in last_value.items() if frozen}


def _holds_batch_norm(ctx, what: str) -> bool:
    first = what.split(" ")[0]
    return ctx.api.is_batch_norm_layer("keras.layers." + first) or "BatchNormalization" in what
