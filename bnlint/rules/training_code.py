"""Training code beyond the GradientTape: loops of Keras 3 on PyTorch.

With the torch backend a Keras model trains in a plain loop: `loss =
loss_fn(model(x), y)`, `loss.backward()`, `optimizer.step()`. A call of the
model there without `training=True` runs BatchNormalization and Dropout in
inference mode, the same bug as BN001's tape (the rule catalogue: the mode of a
top-level call without `training` is inference, whatever the backend).

`torch_training_loops()` finds the loops (`for` / `while`) whose body
calls `.backward()` and `.step()` or a Keras optimizer's `.apply(...)` /
`.apply_gradients(...)` (api.yaml `backward_methods`,
`optimizer_step_methods`); `training_loop_of()` says whether a call site
runs in one: written in the loop, in the same function, and not under
`torch.no_grad()` / `torch.inference_mode()`.
"""

from __future__ import annotations

import ast
from typing import Dict, List, Optional

from ..semantic.scopes import CallSite
from .tables import family_tables

_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def torch_training_loops(model) -> Dict[int, ast.AST]:
    """id(loop) -> loop, for the loops whose body (directly, in the same
    function) calls both `.backward()` and `.step()`."""
    t = family_tables(model.api)
    backward: Dict[int, ast.AST] = {}
    step: Dict[int, ast.AST] = {}
    for site in model.scopes.sites:
        func = site.call.func
        if not isinstance(func, ast.Attribute):
            continue
        if func.attr in t.backward_methods:
            into = backward
        elif func.attr in t.optimizer_step_methods:
            into = step
        else:
            continue
        for block in site.blocks:
            if isinstance(block, _LOOPS):
                into[id(block)] = block
    return {key: loop for key, loop in backward.items() if key in step}


def training_loop_of(model, site: CallSite, loops: Dict[int, ast.AST]) -> Optional[ast.AST]:
    """The innermost training loop a call is written in, or None (also
    when a `no_grad` / `inference_mode` block is around it)."""
    if not loops:
        return None
    t = family_tables(model.api)
    for w in site.withs:
        for item in getattr(w, "items", ()):
            expr = item.context_expr
            if isinstance(expr, ast.Call) and model.names.qualify(expr.func) in t.no_grad_contexts:
                return None
    inner: List[ast.AST] = [b for b in site.blocks if id(b) in loops]
    return inner[-1] if inner else None
