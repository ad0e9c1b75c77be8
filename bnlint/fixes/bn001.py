"""BN001 fixes: make the model call in training code pass `training=True`.

Safe where the call is lexically inside the GradientTape block or in a
`train_step` override: that code only ever trains. Unsafe where the call
sits in a helper function the tape reaches, because the helper may also
run at evaluation, and for a direct `.call(x)`, which the fix turns into
`x(..., training=True)`: Keras' `__call__` then also casts inputs, applies
masks and checks input specs.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..checkers.bn001_tape_call_without_training import TapeCallWithoutTraining
from ..finding import Fix
from .edits import node_edits
from .layout import add_keyword
from .tree import ancestors


def _only_trains(ctx, call: cst.Call) -> bool:
    """Inside a tape block of the same function, or in a train_step method."""
    tapes = TapeCallWithoutTraining(ctx)
    for up in ancestors(ctx.module, call):
        if isinstance(up, cst.Lambda):
            return False
        if isinstance(up, cst.With) and any(tapes.is_tape(item.item) for item in up.items):
            return True
        if isinstance(up, cst.FunctionDef):
            return up.name.value in ctx.api.train_step_methods
    return False


def _with_training_true(call: cst.Call) -> Optional[cst.Call]:
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "training":
            args = list(call.args)
            args[i] = arg.with_changes(value=cst.Name("True"))
            return call.with_changes(args=args)
    return add_keyword(call, "training", cst.Name("True"))


def fix_missing(ctx, report) -> Optional[Fix]:
    """`model(x)` / `model(x, training=None)` -> `model(x, training=True)`."""
    call = report.node
    new = _with_training_true(call)
    if new is None:
        return None
    safety = "safe" if _only_trains(ctx, call) else "unsafe"
    message = "Pass `training=True`" if report.variant == "default" else "Replace `training=None` by `training=True`"
    return Fix(message, safety, node_edits(ctx.module, ctx.source, {call: new}))


def fix_direct_call(ctx, report) -> Optional[Fix]:
    """`model.call(x)` -> `model(x, training=True)`."""
    call = report.node
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    new = _with_training_true(call.with_changes(func=func.value))
    if new is None:
        return None
    return Fix("Call the model (`__call__`) with `training=True` instead of `.call()`", "unsafe",
               node_edits(ctx.module, ctx.source, {call: new}))


FIXERS = {
    ("BN001", "default"): fix_missing,
    ("BN001", "explicit_none"): fix_missing,
    ("BN001", "direct_call"): fix_direct_call,
}
