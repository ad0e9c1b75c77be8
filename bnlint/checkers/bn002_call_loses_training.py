"""BN002: a subclassed Keras `call()` that loses the training mode.

Only the situations measured wrong at runtime are reported (see the rule
docs): inner sublayer calls without `training` are fine, because Keras
passes the outer call's mode down through its call context.
"""

from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..index import ClassInfo, Contents, FunctionInfo
from .base import Checker, has_star_kwargs, is_literal, kwarg, passes_training, source_of


class _CallsInOrder(cst.CSTVisitor):
    """Calls of one method body in execution order (arguments before the call)."""

    def __init__(self, root: cst.FunctionDef) -> None:
        self.root = root
        self.calls: List[cst.Call] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def _self_attr(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) \
            and expr.value.value == "self":
        return expr.attr.value
    return None


def _references_self_trainable(fn: cst.FunctionDef) -> bool:
    found = []

    class _V(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if node.attr.value == "trainable" and _self_attr(node) == "trainable":
                found.append(node)

    fn.visit(_V())
    return bool(found)


class CallLosesTraining(Checker):
    code = "BN002"

    def check(self) -> None:
        ix = self.ctx.index
        for cls in ix.classes.values():
            kind = ix.class_kind(cls)
            if kind is None or "call" not in cls.methods:
                continue
            self._check_class(cls, kind, cls.methods["call"])

    # -- helpers -------------------------------------------------------------
    def _sublayer(self, cls: ClassInfo, expr: cst.BaseExpression):
        attr = _self_attr(expr)
        if attr is None:
            return None
        return self.ctx.index.self_attr_info(cls, attr)

    def _is_bn_subclass(self, cls: ClassInfo) -> bool:
        base = self.ctx.index.keras_base(cls)
        return base is not None and self.ctx.api.is_batch_norm_layer(base)

    def _used_as_sublayer(self, cls: ClassInfo) -> bool:
        """Built inside another Keras class of this file: its mode then comes
        from the outer call's context, and fit() is not called on it."""
        ix = self.ctx.index
        for other in ix.classes.values():
            if other is cls or ix.class_kind(other) is None:
                continue
            for values in other.self_assigns.values():
                for v in values:
                    if _constructs(v, cls.name):
                        return True
            for method in other.methods.values():
                for call in method.calls:
                    if isinstance(call.func, cst.Name) and call.func.value == cls.name:
                        return True
        return False

    # -- the checks ----------------------------------------------------------
    def _check_class(self, cls: ClassInfo, kind: str, call: FunctionInfo) -> None:
        ix = self.ctx.index
        params = call.params
        bn_subclass = self._is_bn_subclass(cls)
        flavour = self.ctx.class_flavour(ix.keras_base_raw(cls))
        deliberate = bn_subclass and _references_self_trainable(call.node)

        # 2. training=True default
        default = params.get("training")
        if default is not None and is_literal(default, "True") and not deliberate:
            contents = ix.class_contents(cls)
            # Without mode-sensitive contents the default changes nothing; a
            # sublayer's default is never used (the caller's mode wins).
            if contents.contents == Contents.SENSITIVE and not self._used_as_sublayer(cls):
                first = contents.what.split(" ")[0]
                dropout_only = "Dropout" in first or "Noise" in first
                effect = ("random units dropped at inference" if dropout_only
                          else "batch statistics used, moving ones mutated")
                self.report(default, "true_default", cls=cls.name, holds=contents.what, effect=effect,
                            context={"function": call.node})

        # 1. Keras 3: fit() never passes training to a call() without it
        own_train_step = any(m in c.methods for c in [cls] + ix.local_bases(cls)
                             for m in self.ctx.api.train_step_methods)
        if kind == "model" and "training" not in params and flavour == "keras3" \
                and not own_train_step:  # fit() runs train_step, not call()
            contents = ix.class_contents(cls)
            if contents.contents == Contents.SENSITIVE and not self._used_as_sublayer(cls):
                self.report(call.node.name, "no_training_param", flavour="keras3",
                            cls=cls.name, holds=contents.what,
                            context={"function": call.node, "class": cls.node})

        order = _CallsInOrder(call.node)
        call.node.visit(order)
        leak_from: Optional[cst.Call] = None
        leak_value = ""
        for c in order.calls:
            func = c.func
            training = kwarg(c, "training")
            # 3. self.<sublayer>.call(...) / super().call(...) without training
            if isinstance(func, cst.Attribute) and func.attr.value == "call":
                if not passes_training(c) and not has_star_kwargs(c):
                    owner = func.value
                    info = self._sublayer(cls, owner)
                    is_super = isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name) \
                        and owner.func.value == "super"
                    if info is not None and info.may_hold_mode_layers:
                        self.report(c, "direct_call", callee=source_of(owner), holds=info.what)
                    elif is_super and bn_subclass:
                        self.report(c, "super_call", cls=cls.name)
                continue
            info = self._sublayer(cls, func)
            if info is None and isinstance(func, cst.Call):
                info = ix.call_info(func, call, cls)  # BatchNormalization()(x)
            # 6. TF1 builders inside call()
            q = ix.qualify(func)
            builder = self.ctx.api.tf1_builder(q) if q else None
            if builder is not None:
                if kwarg(c, builder.training_arg) is None and not has_star_kwargs(c):
                    mode = "training" if builder.training_default else "inference"
                    self.report(c, "tf1_builder", builder=q.rsplit(".", 1)[-1],
                                arg=builder.training_arg, mode=mode)
                continue
            literal = training is not None and (is_literal(training.value, "True")
                                                or is_literal(training.value, "False"))
            if info is None or not info.is_keras:
                if literal:  # e.g. self.blocks[0](x, training=False) still leaks
                    leak_from, leak_value = c, training.value.value
                continue
            # 4. literal training=True on a BatchNormalization sublayer
            if training is not None and is_literal(training.value, "True") \
                    and info.contents == Contents.SENSITIVE \
                    and self.ctx.api.is_batch_norm_layer("keras.layers." + info.what.split(" ")[0]):
                self.report(training, "bn_training_true", callee=source_of(func))
            # 5. Keras 3: a literal training= leaks into later sibling calls
            if literal:
                leak_from, leak_value = c, training.value.value
                continue
            if not passes_training(c) and training is None and leak_from is not None \
                    and not has_star_kwargs(c) \
                    and info.contents == Contents.SENSITIVE and flavour == "keras3":
                self.report(c, "leak", flavour="keras3", callee=source_of(func),
                            value=leak_value, line=self.line_of(leak_from),
                            context={"function": call.node})


def _constructs(expr: cst.BaseExpression, class_name: str) -> bool:
    found = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == class_name:
                found.append(node)

    expr.visit(_V())
    return bool(found)
