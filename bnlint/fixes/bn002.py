"""BN002 fixes: give `call()` a `training` parameter and pass it on.

Safe: adding `training=None` to a signature that has no `**kwargs` and
does not already use the name `training` (Keras then fills it from the
call context, so only `fit()`'s now-correct mode reaches the layers), and
passing `training=training` to a sublayer the mode leaked past or to
`super().call()`. Unsafe, because every caller's behaviour changes: a
`training=True` default turned into `None` (plain `model(x)` now runs
inference), `training=True` on a BatchNormalization call turned into
`training=training` (predictions stop using batch statistics), a direct
`self.layer.call(x)` turned into `self.layer(x)` (Keras' `__call__` also
casts, masks and checks inputs), and TF1 builders (their argument may not
accept None).
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import libcst as cst

from ..finding import Fix
from ..index import _params
from .edits import node_edits
from .layout import add_keyword, add_parameter
from .tree import enclosing_function


class _UsesName(cst.CSTVisitor):
    """Does a body read or bind a variable called `name` (keywords do not count)?"""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.found = True

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False


def _training_param(fn: cst.FunctionDef) -> Tuple[Dict[cst.CSTNode, cst.CSTNode], bool]:
    """Changes that give `fn` a `training` parameter (none if it has one),
    and whether adding it is safe."""
    if "training" in _params(fn):
        return {}, True
    uses = _UsesName("training")
    fn.body.visit(uses)
    safe = fn.params.star_kwarg is None and not uses.found
    new = add_parameter(fn, "training", cst.Name("None"))
    return {fn.params: new.params}, safe


def _function(ctx, report) -> Optional[cst.FunctionDef]:
    fn = report.context.get("function")
    return fn if fn is not None else enclosing_function(ctx.module, report.node)


def _fix(ctx, message: str, changes: Dict[cst.CSTNode, cst.CSTNode], safe: bool) -> Fix:
    return Fix(message, "safe" if safe else "unsafe", node_edits(ctx.module, ctx.source, changes))


def fix_no_training_param(ctx, report) -> Optional[Fix]:
    fn = _function(ctx, report)
    if fn is None:
        return None
    changes, safe = _training_param(fn)
    if not changes:
        return None
    return _fix(ctx, "Add `training=None` to the `call()` signature", changes, safe)


def fix_true_default(ctx, report) -> Optional[Fix]:
    return _fix(ctx, "Default `training` to `None`", {report.node: cst.Name("None")}, False)


def fix_direct_call(ctx, report) -> Optional[Fix]:
    call = report.node
    if not isinstance(call.func, cst.Attribute):
        return None
    return _fix(ctx, "Call the sublayer (`__call__`) instead of `.call()`",
                {call: call.with_changes(func=call.func.value)}, False)


def _pass_training(ctx, report, arg_name: str, message: str, safe: bool) -> Optional[Fix]:
    """`arg_name=training` on the reported call, plus the parameter if missing."""
    call = report.node
    fn = _function(ctx, report)
    if fn is None:
        return None
    new = add_keyword(call, arg_name, cst.Name("training"))
    if new is None:
        return None
    changes, param_safe = _training_param(fn)
    changes[call] = new
    return _fix(ctx, message, changes, safe and param_safe)


def fix_leak(ctx, report) -> Optional[Fix]:
    return _pass_training(ctx, report, "training", "Pass `training=training`", True)


def fix_super_call(ctx, report) -> Optional[Fix]:
    return _pass_training(ctx, report, "training", "Pass `training=training` to `super().call()`", True)


def fix_tf1_builder(ctx, report) -> Optional[Fix]:
    q = ctx.index.qualify(report.node.func)
    builder = ctx.api.tf1_builder(q) if q else None
    if builder is None:
        return None
    return _pass_training(ctx, report, builder.training_arg, f"Pass `{builder.training_arg}=training`", False)


def fix_bn_training_true(ctx, report) -> Optional[Fix]:
    arg = report.node
    fn = _function(ctx, report)
    if fn is None or not isinstance(arg, cst.Arg):
        return None
    changes, _ = _training_param(fn)
    changes[arg] = arg.with_changes(value=cst.Name("training"))
    return _fix(ctx, "Pass `training=training` instead of `training=True`", changes, False)


FIXERS = {
    ("BN002", "no_training_param"): fix_no_training_param,
    ("BN002", "true_default"): fix_true_default,
    ("BN002", "direct_call"): fix_direct_call,
    ("BN002", "leak"): fix_leak,
    ("BN002", "super_call"): fix_super_call,
    ("BN002", "tf1_builder"): fix_tf1_builder,
    ("BN002", "bn_training_true"): fix_bn_training_true,
}
