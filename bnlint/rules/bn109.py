"""BN109: a Keras BatchNormalization / Dropout (or a Keras model holding
one) called without `training` in TF1 graph code or an Estimator
`model_fn`, whose output reaches the train op.

In graph mode Keras takes the mode of a call without `training` from the
learning phase, which defaults to 0 (inference): measured on tf_keras 2.21,
`Dropout(0.5)(x)` in a `tf.compat.v1` graph zeroes no unit, with
`training=True` about half. So the layer never trains; batch norm never
updates its statistics.

Reported only when the call's result flows (by names, see flow.py) into a
`minimize` / `compute_gradients` / `apply_gradients` / `tf.gradients` call
or an EstimatorSpec's `loss=` / `train_op=`, and the file never mentions
the learning phase (feeding it is a way to set the mode). Calls inside a
Keras `call()` (the outer call decides) and in a scope that builds a
functional model on `Input` are not reported. No fix: the right flag is
the user's (`mode == ModeKeys.TRAIN`, an is-training placeholder).
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Optional, Set

from ..semantic.scopes import Scope, ScopeKind
from ..semantic.values import Contents, is_const
from .base import Rule, has_star_kwargs, kwarg, last, passes_training, words
from .flow import Flow, in_keras_call, is_graph_code, train_op_sinks
from .tables import family_tables


class Variant(Enum):
    MODEL_FN = "model_fn"
    GRAPH = "graph"


class KerasLayerInGraphWithoutTraining(Rule):
    code = "BN109"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        markers = {last(n) for n in t.tf1_graph_markers | t.estimators}
        layers = {last(n) for n in api.mode_sensitive | api.extra_mode_sensitive} | t.keras_model_words
        train = set(api.train_op_methods) | set(api.gradient_methods) | {"gradients"} | \
            {last(n) for n in t.estimator_specs}  # the value must reach one of these
        return (re.compile(words(markers)), re.compile(words(layers)), re.compile(words(train)))

    def check(self) -> None:
        ctx = self.ctx
        if "learning_phase" in ctx.source:
            return
        model_fns = self._model_fns()
        if not model_fns and not is_graph_code(ctx):
            return
        sinks = [(arg, scope) for arg, scope, _ in train_op_sinks(ctx)]
        if not sinks:
            return
        flow: Optional[Flow] = None
        building = self._building_scopes()
        values = ctx.values
        for site in ctx.scopes.sites:
            call = site.call
            func = call.func
            if values.qualify(func) is not None:
                continue  # a function or class of a module (a constructor, a tf op), not a layer instance
            training = kwarg(call, "training")
            if training is not None and not is_const(training.value, None):
                continue
            if has_star_kwargs(call) or (training is None and passes_training(call)):
                continue
            scope = site.scope
            owner = scope.function or ctx.scopes.module
            if id(owner) in building or in_keras_call(ctx, scope):
                continue
            info = values.callee_info(func, scope, scope.cls)
            if info.contents != Contents.SENSITIVE:
                continue
            in_model_fn = any(id(s) in model_fns for s in _enclosing(scope))
            if flow is None:
                flow = Flow(ctx)
            if flow.reaches(call, sinks) is None:
                continue
            callee = ctx.segment(func.func) + "(...)" if isinstance(func, ast.Call) else ctx.segment(func)
            self.report(call, Variant.MODEL_FN if in_model_fn else Variant.GRAPH, callee=callee,
                        layer=info.what.split(" ")[0])

    def _model_fns(self) -> Set[int]:
        """Functions an Estimator runs as its model_fn, and what they call."""
        ctx = self.ctx
        t = family_tables(ctx.api)
        starts = []
        for site in ctx.scopes.sites:
            if ctx.values.qualify(site.call.func) not in t.estimators:
                continue
            fn = kwarg(site.call, "model_fn")
            value = fn.value if fn is not None else (site.call.args[0] if site.call.args else None)
            target = ctx.values.definition(value, ScopeKind.FUNCTION) if value is not None else None
            if target is None and isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
                    and value.value.id == "self" and site.scope.cls is not None:
                target = site.scope.cls.methods.get(value.attr)
            if target is not None:
                starts.append(target)
        return set(ctx.values.graph.reachable([(s, None) for s in starts], 4)) if starts else set()

    def _building_scopes(self) -> Set[int]:
        """Scopes that call `Input(...)` or a functional `Model(...)`:
        layer calls there build a model, they do not run it."""
        ctx = self.ctx
        wanted = ctx.api.symbolic_inputs | ctx.api.functional_constructors
        out: Set[int] = set()
        for site in ctx.scopes.sites:
            if ctx.values.qualify(site.call.func) in wanted:
                owner = site.scope.function or ctx.scopes.module
                out.add(id(owner))
        return out


def _enclosing(scope: Optional[Scope]):
    s = scope
    while s is not None:
        yield s
        s = s.parent
