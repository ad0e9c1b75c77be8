"""BN110: a TF1 batch norm builder whose training argument defaults to
inference (`tf.layers.batch_normalization`, `tf.compat.v1.layers...`)
called without it, where its output reaches the train op.

Measured on tf_keras 2.21: `tf.compat.v1.layers.batch_normalization(z)`
never normalises with batch statistics (output means equal the input's)
and registers nothing in UPDATE_OPS, so the layer trains against moving
statistics that stay at 0 and 1.

Reported only when the builder's result flows (by names, see flow.py) into
a train op or gradients; inside a Keras `call()` BN002 reports it. No fix:
the flag (a placeholder, a Python bool, `mode == ModeKeys.TRAIN`) is the
user's.
"""

from __future__ import annotations

import re
from enum import Enum

from .base import Rule, has_star, kwarg, last, words
from .flow import Flow, in_keras_call, train_op_sinks


class Variant(Enum):
    DEFAULT = "default"


class Tf1BuilderWithoutTraining(Rule):
    code = "BN110"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        builders = {last(n) for n, b in api.tf1_builders.items() if not b.training_default}
        methods = set(api.train_op_methods) | set(api.gradient_methods) | {"gradients"}
        return (re.compile(words(builders)), re.compile(words(methods)))

    def check(self) -> None:
        ctx = self.ctx
        api = ctx.api
        candidates = []
        for site in ctx.scopes.sites:
            q = ctx.values.qualify(site.call.func)
            builder = api.tf1_builder(q) if q else None
            if builder is None or builder.training_default:
                continue
            call = site.call
            if kwarg(call, builder.training_arg) is not None or has_star(call) or len(call.args) > 1:
                continue
            if in_keras_call(ctx, site.scope):
                continue  # BN002 reports builders in call()
            candidates.append((site, q, builder))
        if not candidates:
            return
        sinks = [(arg, scope) for arg, scope, _ in train_op_sinks(ctx)]
        if not sinks:
            return
        flow = Flow(ctx)
        for site, q, builder in candidates:
            sink = flow.reaches(site.call, sinks)
            if sink is None:
                continue
            self.report(site.call, Variant.DEFAULT, builder=last(q), arg=builder.training_arg,
                        line=self.line_of(sink))
