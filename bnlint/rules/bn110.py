"""BN110: a TF1 builder's training argument left out or misplaced, where its
output reaches the train op.

- DEFAULT: a batch norm builder whose training argument defaults to
  inference (`tf.layers.batch_normalization`, `tf.compat.v1.layers...`)
  called without it. Measured on tf_keras 2.21:
  `tf.compat.v1.layers.batch_normalization(z)` never normalises with batch
  statistics (output means equal the input's) and registers nothing in
  UPDATE_OPS, so the layer trains against moving statistics that stay at
  0 and 1.
- DROPOUT: `tf.layers.dropout(x, rate)` without `training=`: it defaults
  to False, so it never drops a unit (TF 1.15 signature
  `dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False)`).
- POSITIONAL: a dropout builder given a mode flag as its third positional
  argument (`tf.layers.dropout(x, rate, is_training)`): that parameter is
  `noise_shape`, so the mode stays at its default (never drops for
  `tf.layers`, always drops for slim / contrib). The flag is a bool
  literal, or a name or attribute whose name holds "train" or "phase".
  Measured on TF 2.21 + tf_keras, graph mode, 1000 ones at rate 0.5:
  `tf.compat.v1.layers.dropout(x, 0.5)` and `(x, 0.5, flag)` fed True zero
  none.

- HELPER: a call of a function of the user's other module that makes a
  DEFAULT or DROPOUT call (in its body or two calls deep in that module),
  reported at the call in this file.

Dropout builders and their parameter positions are api.yaml
`tf1_dropout_builders`. Reported only when the builder's result flows (by
names, see flow.py) into a train op or gradients; inside a Keras `call()`
BN002 reports builders. No fix: the flag (a placeholder, a Python bool,
`mode == ModeKeys.TRAIN`) is the user's; for POSITIONAL the keyword is
plain, but which tensor is meant cannot be proved.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Optional, Tuple

from ..semantic.scopes import ScopeKind
from .base import Rule, has_star, kwarg, last, words
from .flow import Flow, in_keras_call, train_op_sinks
from .tables import tf1_dropout_builders


class Variant(Enum):
    DEFAULT = "default"
    DROPOUT = "dropout"
    POSITIONAL = "positional"
    HELPER = "helper"  # a function of the user's other module that calls a builder so


def _looks_like_flag(node: ast.AST) -> Optional[str]:
    """The source-free name of a mode flag passed by position, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return str(node.value)
    name = node.id if isinstance(node, ast.Name) else (node.attr if isinstance(node, ast.Attribute) else None)
    if name is not None and ("train" in name.lower() or "phase" in name.lower()):
        return name
    return None


class Tf1BuilderWithoutTraining(Rule):
    code = "BN110"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        """A train op or gradients in the file's bytes, and a builder there
        or, for a helper, in a project module the file imports."""
        methods = set(api.train_op_methods) | set(api.gradient_methods) | {"gradients"}
        return (re.compile(words(methods)), cls._builder_words(api))

    @staticmethod
    def _builder_words(api):
        builders = {last(n) for n, b in api.tf1_builders.items() if not b.training_default}
        builders |= {last(n) for n in tf1_dropout_builders(api)}
        return re.compile(words(builders))

    @classmethod
    def stage1_project(cls) -> bool:
        """The builder may be called by a helper of a project module."""
        return True

    @classmethod
    def project_words(cls, api):
        """...one whose bytes hold the builder (one pattern per stage-1 pattern after the first)."""
        return (cls._builder_words(api),)

    def _left_out(self, call: ast.Call, q: str, here: bool = True) -> Optional[Tuple[Variant, dict]]:
        """(variant, message values) when `call` (of `q`) leaves a
        builder's training argument out or gives the flag to `noise_shape`
        (that only when `here`: a call of this file)."""
        api = self.ctx.api
        builder = api.tf1_builder(q)
        dropout = tf1_dropout_builders(api).get(q)
        arg = builder.training_arg if builder is not None else (dropout.training_arg if dropout else None)
        if arg is None or kwarg(call, arg) is not None or has_star(call):
            return None
        values = {"builder": last(q), "arg": arg}
        if dropout is not None and len(call.args) > dropout.noise_shape_position:
            if not here:
                return None
            flag = _looks_like_flag(call.args[dropout.noise_shape_position])
            if flag is None or len(call.args) > dropout.noise_shape_position + 1:
                return None  # a real noise_shape, or more positional arguments than we read
            values["flag"] = self.ctx.segment(call.args[dropout.noise_shape_position])
            values["effect"] = "always drops units" if dropout.training_default else "never drops a unit"
            return Variant.POSITIONAL, values
        if builder is not None and not builder.training_default and len(call.args) <= 1:
            return Variant.DEFAULT, values
        if dropout is not None and not dropout.training_default and len(call.args) <= 2:
            return Variant.DROPOUT, values
        return None

    def _helper(self, q: str) -> Optional[dict]:
        """Message values when `q` is a function of the user's other module
        that calls a builder of this rule without its training argument (in
        its body, or in a function of that module it calls: two calls deep),
        outside a Keras `call()`."""
        ctx = self.ctx
        values = ctx.values
        module = q.rpartition(".")[0]
        if values.project is None or not module or q.split(".")[0] in ctx.api.clean_libraries:
            return None
        if not values.project.mentions(module, self._builder_words(ctx.api)):
            return None
        target = values.external_target(q)
        if target is None:
            return None
        other, attr = target
        d = other.module_definition(attr)
        if d is None or d.kind is not ScopeKind.FUNCTION or d.cls is not None:
            return None
        for scope, _ in other.graph.reachable([(d, None)], max_depth=2).values():
            for inner in scope.calls:
                iq = other.qualify(inner.func)
                found = self._left_out(inner, iq, here=False) if iq else None
                if found is not None:
                    return {"fn": attr, "builder": found[1]["builder"], "arg": found[1]["arg"]}
        return None

    def check(self) -> None:
        ctx = self.ctx
        candidates = []
        for site in ctx.scopes.sites:
            q = ctx.values.qualify(site.call.func)
            if q is None:
                continue
            call = site.call
            if in_keras_call(ctx, site.scope):
                continue  # BN002 reports builders in call()
            found = self._left_out(call, q)
            if found is not None:
                candidates.append((call, found[0], found[1]))
                continue
            if ctx.api.tf1_builder(q) is None and q not in tf1_dropout_builders(ctx.api):
                helper = self._helper(q)
                if helper is not None:
                    candidates.append((call, Variant.HELPER, helper))
        if not candidates:
            return
        sinks = [(arg, scope) for arg, scope, _ in train_op_sinks(ctx)]
        if not sinks:
            return
        flow = Flow(ctx)
        for call, variant, values in candidates:
            sink = flow.reaches(call, sinks)
            if sink is None:
                continue
            self.report(call, variant, line=self.line_of(sink), **values)
