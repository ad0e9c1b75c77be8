"""BN105: dropout as a function (`tf.nn.dropout`, `keras.random.dropout`)
in a Keras layer's `call()`, applied whatever `training` is.

A function drops units on every call: Keras' training flag only reaches
layers. Measured (Keras 3.15): a layer whose `call` returns
`tf.nn.dropout(x, rate=0.5)` zeroes 481 of 1000 units under `predict()`
and 522 under `model(x, training=False)`.

Not reported: a dropout call under an `if` (or `tf.cond`, `smart_cond`,
`in_train_phase`, a conditional expression) whose test reads the training
flag or a name derived from it, or whose rate reads it or another
parameter of `call` (the caller passes the rate: `keep_prob`). No fix: the
gate depends on how the layer gets its mode.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Dict, Optional, Set

from ..semantic import SemanticModel
from ..semantic.scopes import Scope, ScopeKind
from .base import Rule, last, words
from .flow import derived_names
from .tables import family_tables


class Variant(Enum):
    UNGATED = "ungated"
    NO_TRAINING_PARAM = "no_training_param"


def _is_mode_word(name: str) -> bool:
    lowered = name.lower()
    return "train" in lowered or "learning_phase" in lowered or lowered in ("phase", "mode", "deterministic")


class DropoutIgnoresTraining(Rule):
    code = "BN105"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        names = {last(n) for n in family_tables(api).functional_dropout}
        return (re.compile(rb"def\s+call\s*\("), re.compile(words(names)))

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        return any("call" in c.methods for c in model.scopes.classes)

    def check(self) -> None:
        ctx = self.ctx
        dropouts = family_tables(ctx.api).functional_dropout
        for cls in ctx.scopes.classes:
            call = cls.methods.get("call")
            if call is None or ctx.values.class_kind(cls) is None or _stochastic_by_name(cls.name):
                continue
            sites = [s for s in ctx.scopes.sites if _inside(s.scope, call)
                     and ctx.values.qualify(s.call.func) in dropouts]
            if not sites:
                continue
            mode = derived_names(ctx, call, {p for p in call.params if _is_mode_word(p)})
            parents = _parents(call.node)
            others = [p for p in list(call.params)[2:]]  # (self, inputs, ...)
            for site in sites:
                if self._gated(site, mode, parents, others):
                    continue
                name = self.ctx.segment(site.call.func)
                has_param = any(_is_mode_word(p) for p in call.params)
                variant = Variant.UNGATED if has_param else Variant.NO_TRAINING_PARAM
                self.report(site.call, variant, func=name, cls=cls.name)

    def _gated(self, site, mode: Set[str], parents: Dict[int, ast.AST], others) -> bool:
        for test, _ in site.guards:
            if _reads(test, mode):
                return True
        for stmt in parents.get("early", ()):  # `if not training: return x` before it
            if stmt.lineno < site.call.lineno and _reads(stmt.test, mode):
                return True
        if _reads(site.call, mode | set(others)):
            return True  # the rate (or keep_prob) comes from the mode or the caller
        node: Optional[ast.AST] = site.call
        while node is not None:
            parent = parents.get(id(node))
            if isinstance(parent, ast.IfExp) and _reads(parent.test, mode):
                return True
            if isinstance(parent, ast.Call) and node is not parent.func and \
                    any(_reads(a, mode) for a in list(parent.args) + [k.value for k in parent.keywords]
                        if a is not node):
                return True  # tf.cond(training, lambda: tf.nn.dropout(x, .5), lambda: x)
            node = parent
        return False


def _stochastic_by_name(name: str) -> bool:
    """`TestTimeDropout`, `MCDropout`, `MonteCarloDropout`: dropout at
    inference is the point."""
    lowered = name.lower()
    return any(w in lowered for w in ("testtime", "montecarlo", "mcdropout", "mc_dropout", "alwaysdropout"))


def _inside(scope: Optional[Scope], fn: Scope) -> bool:
    s = scope
    while s is not None:
        if s is fn:
            return True
        if s.kind is ScopeKind.CLASS:
            return False
        s = s.parent
    return False


def _reads(expr: ast.AST, names: Set[str]) -> bool:
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and (node.id in names or _is_mode_word(node.id)):
            return True
        if isinstance(node, ast.Attribute) and _is_mode_word(node.attr):
            return True
    return False


def _parents(fn: ast.AST) -> Dict:
    """id(node) -> parent inside `fn`; under the key "early", the `if`
    statements whose body returns or raises (an early exit)."""
    out: Dict = {"early": []}
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
        if isinstance(node, ast.If) and any(isinstance(n, (ast.Return, ast.Raise)) for b in node.body
                                            for n in ast.walk(b)):
            out["early"].append(node)
    return out
