"""BN106: the global learning phase (`set_learning_phase`, `learning_phase()`).

Keras 3 removed it: any use raises AttributeError (measured on keras 3.15
and the tf.keras of TF 2.21). In Keras 2 (tf_keras) it is global state:
`set_learning_phase(0)` before a graph-mode `fit()` leaves the moving
statistics at 0.0 and `set_learning_phase(1)` makes `predict()` use batch
statistics (both measured in graph mode; eager `fit()` / `predict()`
override the phase). Reported: every use under Keras 3; under Keras 2, in
TF1 graph code, a literal phase that contradicts what the file does
afterwards (0 and a training call, 1 and an evaluation call). No fix: the right
replacement (`training=` on the calls) depends on each call.
"""

from __future__ import annotations

import ast
import re
from enum import Enum

from ..semantic import SemanticModel
from .base import Rule, last, words
from .flow import is_graph_code
from .tables import family_tables


class Variant(Enum):
    REMOVED = "removed"
    PHASE_OFF_THEN_FIT = "phase_off_then_fit"
    PHASE_ON_THEN_PREDICT = "phase_on_then_predict"


class LearningPhase(Rule):
    code = "BN106"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        return (re.compile(words({last(n) for n in t.learning_phase_setters | t.learning_phase_readers})),)

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        return any("learning_phase" in n for n in model.scopes.attr_names) or any(
            "learning_phase" in n for n in _imported_names(model))

    _graph = None

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        wanted = t.learning_phase_setters | t.learning_phase_readers
        for site in ctx.scopes.sites:
            call = site.call
            q = ctx.values.qualify(call.func)
            if q not in wanted:
                continue
            name = last(q)
            flavour = ctx.class_flavour(ctx.names.raw(call.func))
            if flavour == "keras3":
                self.report(call, Variant.REMOVED, flavour="keras3", function=name)
                continue
            if q not in t.learning_phase_setters or not call.args or not self._graph_code():
                continue  # eager Keras 2: fit() and predict() override the phase (measured)
            phase = _literal_phase(call.args[0])
            if phase is None:
                continue
            later = self._later_method_call(call, t.fit_methods if phase == 0 else t.evaluate_methods)
            if later is None:
                continue
            variant = Variant.PHASE_OFF_THEN_FIT if phase == 0 else Variant.PHASE_ON_THEN_PREDICT
            self.report(call, variant, flavour="keras2", method=later.func.attr, line=self.line_of(later))

    def _graph_code(self) -> bool:
        if self._graph is None:
            self._graph = is_graph_code(self.ctx)
        return self._graph

    def _later_method_call(self, call: ast.Call, methods) -> "ast.Call | None":
        """The first `x.<method>(...)` written after `call` in the file."""
        at = (call.lineno, call.col_offset)
        for site in self.ctx.scopes.sites:
            func = site.call.func
            if isinstance(func, ast.Attribute) and func.attr in methods \
                    and (site.call.lineno, site.call.col_offset) > at:
                return site.call
        return None


def _literal_phase(node: ast.AST):
    if isinstance(node, ast.Constant) and node.value in (0, 1) and not isinstance(node.value, float):
        return int(node.value)
    return None


def _imported_names(model: SemanticModel):
    return [raw.rsplit(".", 1)[-1] for raw in model.scopes.imported]
