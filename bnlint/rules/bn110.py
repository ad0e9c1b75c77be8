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
from typing import Optional

from .base import Rule, has_star, kwarg, last, words
from .flow import Flow, in_keras_call, train_op_sinks
from .tables import tf1_dropout_builders


class Variant(Enum):
    DEFAULT = "default"
    DROPOUT = "dropout"
    POSITIONAL = "positional"


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
        builders = {last(n) for n, b in api.tf1_builders.items() if not b.training_default}
        builders |= {last(n) for n in tf1_dropout_builders(api)}
        methods = set(api.train_op_methods) | set(api.gradient_methods) | {"gradients"}
        return (re.compile(words(builders)), re.compile(words(methods)))

    def check(self) -> None:
        ctx = self.ctx
        api = ctx.api
        dropouts = tf1_dropout_builders(api)
        candidates = []
        for site in ctx.scopes.sites:
            q = ctx.values.qualify(site.call.func)
            if q is None:
                continue
            call = site.call
            builder = api.tf1_builder(q)
            dropout = dropouts.get(q)
            arg = builder.training_arg if builder is not None else (dropout.training_arg if dropout else None)
            if arg is None or kwarg(call, arg) is not None or has_star(call):
                continue
            if in_keras_call(ctx, site.scope):
                continue  # BN002 reports builders in call()
            values = {"builder": last(q), "arg": arg}
            if dropout is not None and len(call.args) > dropout.noise_shape_position:
                flag = _looks_like_flag(call.args[dropout.noise_shape_position])
                if flag is None or len(call.args) > dropout.noise_shape_position + 1:
                    continue  # a real noise_shape, or more positional arguments than we read
                values["flag"] = ctx.segment(call.args[dropout.noise_shape_position])
                values["effect"] = "always drops units" if dropout.training_default else "never drops a unit"
                candidates.append((call, Variant.POSITIONAL, values))
            elif builder is not None and not builder.training_default and len(call.args) <= 1:
                candidates.append((call, Variant.DEFAULT, values))
            elif dropout is not None and not dropout.training_default and len(call.args) <= 2:
                candidates.append((call, Variant.DROPOUT, values))
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
