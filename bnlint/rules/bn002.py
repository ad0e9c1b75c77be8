"""BN002: a subclassed Keras `call()` that loses the training mode.

Only the situations measured wrong at runtime are reported (see the rule
docs): inner sublayer calls without `training` are fine, because Keras
passes the outer call's mode down through its call context.

Fixes: give `call()` a `training=None` parameter (safe when the signature
has no `**kwargs` and the body does not use the name), pass
`training=training` to a sublayer the mode leaked past or to
`super().call()` (safe); unsafe: a `True` default turned into `None`,
`training=True` on BatchNormalization turned into `training=training`,
`self.layer.call(x)` turned into `self.layer(x)`, TF1 builders.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Dict, List, Optional, Tuple

from ..semantic import SemanticModel
from ..semantic.scopes import Scope
from ..semantic.values import Contents, KerasInfo, is_const
from .base import Rule, has_star_kwargs, kwarg, last, passes_training, words
from .flow import derived_names


class Variant(Enum):
    NO_TRAINING_PARAM = "no_training_param"
    NO_TRAINING_PARAM_LATENT = "no_training_param_latent"  # no fit() here; no fix offered
    TRUE_DEFAULT = "true_default"
    DIRECT_CALL = "direct_call"
    SUPER_CALL = "super_call"
    SUPER_HARD_CODED = "super_hard_coded"
    TF1_BUILDER = "tf1_builder"
    BN_TRAINING_TRUE = "bn_training_true"
    LEAK = "leak"


def _self_attr(expr: ast.AST) -> Optional[str]:
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        return expr.attr
    return None


def _references_self_trainable(fn: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "trainable" and _self_attr(n) == "trainable"
               for n in ast.walk(fn))


def calls_in_order(fn: ast.AST) -> List[ast.Call]:
    """Calls of one function body in execution order (arguments before the
    call); nested defs and classes are not entered."""
    out: List[ast.Call] = []
    stack: list = [(child, False) for child in reversed(list(ast.iter_child_nodes(fn)))]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(ast.iter_child_nodes(node))))
    return out


def _is_super(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super"


def _frozen_by_name(name: str) -> bool:
    """`FrozenBatchNorm` and friends hard-code inference on purpose."""
    lowered = name.lower()
    return "frozen" in lowered or "freeze" in lowered or "fixed" in lowered


def _reads(expr: ast.AST, names) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expr))


class CallLosesTraining(Rule):
    code = "BN002"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        sensitive = {last(n) for n in api.mode_sensitive | api.extra_mode_sensitive} | \
            {last(b) for b in api.tf1_builders} | {"applications"}
        return (re.compile(rb"def\s+call\s*\("), re.compile(words(sensitive) + rb"|\.\s*call\s*\("))

    @classmethod
    def stage1_project(cls) -> bool:
        """A mode-sensitive name may come from a project module (the bytes cannot tell)."""
        return True

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        values = model.values
        return any("call" in c.methods and values.class_kind(c) is not None for c in model.scopes.classes)

    def check(self) -> None:
        values = self.ctx.values
        self._sublayers: Dict[Tuple[int, str], Optional[KerasInfo]] = {}
        for cls in self.ctx.scopes.classes:
            kind = values.class_kind(cls)
            if kind is None or "call" not in cls.methods:
                continue
            self._check_class(cls, kind, cls.methods["call"])

    # -- helpers -------------------------------------------------------------
    def _sublayer(self, cls: Scope, expr: ast.AST):
        """What `self.<attr>` holds in `cls` (None: not a self attribute or
        never assigned); kept per (class, attribute) for this file: a
        call() reads the same sublayers again and again, and the answer of
        a top-level self_attr_info does not change once asked."""
        attr = _self_attr(expr)
        if attr is None:
            return None
        key = (id(cls), attr)
        if key not in self._sublayers:
            self._sublayers[key] = self.ctx.values.self_attr_info(cls, attr)
        return self._sublayers[key]

    def _is_bn_subclass(self, cls: Scope) -> bool:
        base = self.ctx.values.keras_base(cls)
        return base is not None and self.ctx.api.is_batch_norm_layer(base)

    def _used_as_sublayer(self, cls: Scope) -> bool:
        """Built inside another Keras class of this file: its mode then comes
        from the outer call's context, and fit() is not called on it."""
        values = self.ctx.values
        for _call, scope in values.graph.callers(cls):
            owner = scope.cls
            if owner is not None and owner is not cls and values.class_kind(owner) is not None:
                return True
        return False

    def _calls_fit(self) -> bool:
        """Does the file call `<something>.fit(...)` (Keras' training loop)?"""
        return any(isinstance(s.call.func, ast.Attribute) and s.call.func.attr == "fit"
                   for s in self.ctx.scopes.sites)

    # -- the checks ----------------------------------------------------------
    def _check_class(self, cls: Scope, kind: str, call: Scope) -> None:
        values = self.ctx.values
        api = self.ctx.api
        params = call.params
        bn_subclass = self._is_bn_subclass(cls)
        flavour = self.ctx.class_flavour(values.keras_base_raw(cls))
        deliberate = bn_subclass and _references_self_trainable(call.node)

        # 2. training=True default
        default = params.get("training")
        if is_const(default, True) and not deliberate:
            contents = values.class_contents(cls)
            # Without mode-sensitive contents the default changes nothing; a
            # sublayer's default is never used (the caller's mode wins).
            if contents.contents == Contents.SENSITIVE and not self._used_as_sublayer(cls):
                first = contents.what.split(" ")[0]
                dropout_only = "Dropout" in first or "Noise" in first
                effect = ("random units dropped at inference" if dropout_only
                          else "batch statistics used, moving ones mutated")
                self.report(default, Variant.TRUE_DEFAULT, cls=cls.name, holds=contents.what, effect=effect,
                            context={"function": call.node})

        # 1. Keras 3: fit() never passes training to a call() without it
        own_train_step = any(m in c.methods for c in [cls] + values.local_bases(cls)
                             for m in api.train_step_methods)
        if kind == "model" and "training" not in params and flavour == "keras3" and not own_train_step:
            contents = values.class_contents(cls)
            if contents.contents == Contents.SENSITIVE and not self._used_as_sublayer(cls):
                flag = next((p for p in params if "train" in p.lower()), None)
                if flag is not None and not self._calls_fit():
                    # Issue 11, kind 10: trained by `model(x, is_training=True)`
                    # in a tape; adding `training=None` alone would change nothing.
                    self.report(call.node, Variant.NO_TRAINING_PARAM_LATENT, flavour="keras3",
                                cls=cls.name, holds=contents.what, flag=flag,
                                context={"function": call.node, "name_only": True})
                else:
                    self.report(call.node, Variant.NO_TRAINING_PARAM, flavour="keras3",
                                cls=cls.name, holds=contents.what,
                                context={"function": call.node, "name_only": True})

        leak_from: Optional[ast.Call] = None
        leak_value = ""
        for c in calls_in_order(call.node):
            func = c.func
            training = kwarg(c, "training")
            # 3. self.<sublayer>.call(...) / super().call(...) without training
            if isinstance(func, ast.Attribute) and func.attr == "call":
                if not passes_training(c) and not has_star_kwargs(c):
                    owner = func.value
                    info = self._sublayer(cls, owner)
                    is_super = isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) \
                        and owner.func.id == "super"
                    if info is not None and info.may_hold_mode_layers:
                        self.report(c, Variant.DIRECT_CALL, callee=self.ctx.segment(owner), holds=info.what)
                    elif is_super and bn_subclass:
                        self.report(c, Variant.SUPER_CALL, cls=cls.name, context={"function": call.node})
                elif training is not None and _is_super(func.value) and bn_subclass and not deliberate \
                        and not _frozen_by_name(cls.name) and not _reads(
                            training.value, derived_names(self.ctx, call, {p for p in params if "train" in p.lower()})):
                    self.report(training, Variant.SUPER_HARD_CODED, cls=cls.name,
                                value=self.ctx.segment(training.value), context={"function": call.node})
                continue
            info = self._sublayer(cls, func)
            if info is None and isinstance(func, ast.Call):
                info = values.call_info(func, call, cls)  # BatchNormalization()(x)
            # 6. TF1 builders inside call()
            q = values.qualify(func)
            builder = api.tf1_builder(q) if q else None
            if builder is not None:
                given = kwarg(c, builder.training_arg)
                if given is None and not has_star_kwargs(c):
                    mode = "training" if builder.training_default else "inference"
                    self.report(c, Variant.TF1_BUILDER, builder=last(q), arg=builder.training_arg, mode=mode,
                                context={"function": call.node, "arg": builder.training_arg})
                elif given is not None and is_const(given.value, True):  # hard-coded: batch statistics at inference
                    self.report(given, Variant.BN_TRAINING_TRUE, callee=last(q), context={"function": call.node})
                continue
            literal = training is not None and isinstance(training.value, ast.Constant) \
                and isinstance(training.value.value, bool)
            if info is None or not info.is_keras:
                if literal:  # e.g. self.blocks[0](x, training=False) still leaks
                    leak_from, leak_value = c, str(training.value.value)
                continue
            # 4. literal training=True on a BatchNormalization sublayer
            if training is not None and is_const(training.value, True) \
                    and info.contents == Contents.SENSITIVE \
                    and api.is_batch_norm_layer("keras.layers." + info.what.split(" ")[0]):
                self.report(training, Variant.BN_TRAINING_TRUE, callee=self.ctx.segment(func),
                            context={"function": call.node})
            # 5. Keras 3: a literal training= leaks into later sibling calls
            if literal:
                leak_from, leak_value = c, str(training.value.value)
                continue
            if not passes_training(c) and training is None and leak_from is not None \
                    and not has_star_kwargs(c) and info.contents == Contents.SENSITIVE and flavour == "keras3":
                self.report(c, Variant.LEAK, flavour="keras3", callee=self.ctx.segment(func),
                            value=leak_value, line=self.line_of(leak_from),
                            context={"function": call.node})


# -- fixes (libcst, built only for files with findings) -----------------------
def _cst_params(fn) -> set:
    import libcst as cst

    p = fn.params
    names = {param.name.value for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def _uses_name(fn_ast: ast.AST, name: str) -> bool:
    """Does a body read or bind a variable called `name` (keywords do not count)?"""
    return any(isinstance(n, ast.Name) and n.id == name for stmt in fn_ast.body for n in ast.walk(stmt))


def _training_param(fctx, fn_ast):
    """(changes that give the function a `training` parameter, whether
    adding it is safe, the libcst FunctionDef)."""
    import libcst as cst

    from ..fixes.layout import add_parameter

    fn = fctx.locate(fn_ast, cst.FunctionDef)
    if fn is None:
        return None, False, None
    if "training" in _cst_params(fn):
        return {}, True, fn
    safe = fn.params.star_kwarg is None and not _uses_name(fn_ast, "training")
    new = add_parameter(fn, "training", cst.Name("None"))
    return {fn.params: new.params}, safe, fn


def _fix(fctx, message, changes, safe):
    from ..finding import Fix

    return Fix(message, "safe" if safe else "unsafe", fctx.edits(changes))


def fix_no_training_param(fctx, report):
    changes, safe, _ = _training_param(fctx, report.context["function"])
    if not changes:
        return None
    return _fix(fctx, "Add `training=None` to the `call()` signature", changes, safe)


def fix_true_default(fctx, report):
    import libcst as cst

    node = fctx.locate(report.node, cst.Name)
    if node is None or node.value != "True":
        return None
    return _fix(fctx, "Default `training` to `None`", {node: cst.Name("None")}, False)


def fix_direct_call(fctx, report):
    import libcst as cst

    call = fctx.locate(report.node, cst.Call)
    if call is None or not isinstance(call.func, cst.Attribute):
        return None
    return _fix(fctx, "Call the sublayer (`__call__`) instead of `.call()`",
                {call: call.with_changes(func=call.func.value)}, False)


def _pass_training(fctx, report, arg_name, message, safe):
    """`arg_name=training` on the reported call, plus the parameter if missing."""
    import libcst as cst

    from ..fixes.layout import add_keyword

    call = fctx.locate(report.node, cst.Call)
    if call is None:
        return None
    new = add_keyword(call, arg_name, cst.Name("training"))
    if new is None:
        return None
    changes, param_safe, _ = _training_param(fctx, report.context["function"])
    if changes is None:
        return None
    changes[call] = new
    return _fix(fctx, message, changes, safe and param_safe)


def fix_leak(fctx, report):
    return _pass_training(fctx, report, "training", "Pass `training=training`", True)


def fix_super_call(fctx, report):
    return _pass_training(fctx, report, "training", "Pass `training=training` to `super().call()`", True)


def fix_tf1_builder(fctx, report):
    arg = report.context["arg"]
    return _pass_training(fctx, report, arg, f"Pass `{arg}=training`", False)


def _pass_own_training(fctx, report, title):
    """The reported `training=<value>` argument -> `training=training`, with
    `training` added to call()'s signature when it lacks it (unsafe)."""
    import libcst as cst

    arg = fctx.locate(report.node, cst.Arg)
    if arg is None or arg.keyword is None or arg.keyword.value != "training":
        return None
    changes, _, _ = _training_param(fctx, report.context["function"])
    if changes is None:
        return None
    changes[arg] = arg.with_changes(value=cst.Name("training"))
    return _fix(fctx, title, changes, False)


def fix_super_hard_coded(fctx, report):
    """`super().call(x, training=<anything else>)` -> `training=training` (unsafe)."""
    return _pass_own_training(fctx, report, "Pass `training=training` to `super().call()`")


def fix_bn_training_true(fctx, report):
    """`self.bn(x, training=True)` -> `training=training` (unsafe)."""
    return _pass_own_training(fctx, report, "Pass `training=training` instead of `training=True`")


CallLosesTraining.fixers = {
    Variant.NO_TRAINING_PARAM: fix_no_training_param,
    Variant.TRUE_DEFAULT: fix_true_default,
    Variant.DIRECT_CALL: fix_direct_call,
    Variant.LEAK: fix_leak,
    Variant.SUPER_CALL: fix_super_call,
    Variant.SUPER_HARD_CODED: fix_super_hard_coded,
    Variant.TF1_BUILDER: fix_tf1_builder,
    Variant.BN_TRAINING_TRUE: fix_bn_training_true,
}
