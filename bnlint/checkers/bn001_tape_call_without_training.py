"""BN001: a Keras model or layer called without `training` where it trains.

Training code is: the body of a `with tf.GradientTape()` block, a function
of the same file that such a block calls (transitively), and a
`train_step` override of a Keras Model. A call there without `training`
(or with `training=None`), or a direct `.call()`, runs BatchNormalization
and Dropout in inference mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..index import ClassInfo, Contents, FunctionInfo, KerasInfo, bound_argument
from ..names import dotted
from ..walk import walk
from .base import Checker, has_star_kwargs, is_literal, kwarg, passes_training, source_of


_LEARNING_PHASE_ON = re.compile(r"set_learning_phase\(\s*(?:1|True)\s*\)")


@dataclass
class _Site:
    call: cst.Call
    fn: Optional[FunctionInfo]
    cls: Optional[ClassInfo]
    tape_line: Optional[cst.With]  # the tape block around it, if lexically inside one


class _Collector:
    """Finds tape blocks, the calls inside them, and local calls made there."""

    def __init__(self, checker: "TapeCallWithoutTraining") -> None:
        self.c = checker
        self.ix = checker.ctx.index
        self.fn_stack: List[Optional[FunctionInfo]] = [None]
        self.cls_stack: List[Optional[ClassInfo]] = [None]
        self.tape_stack: List[List[cst.With]] = [[]]
        self.sites: List[_Site] = []
        self.calls_by_fn: Dict[Optional[cst.FunctionDef], List[_Site]] = {}
        self.fns_with_tapes: Set[Optional[cst.FunctionDef]] = set()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.cls_stack.append(self.ix.class_by_node.get(node))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.cls_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.fn_stack.append(self.ix.function_by_node.get(node))
        self.tape_stack.append([])  # a def inside a tape block does not run there

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.fn_stack.pop()
        self.tape_stack.pop()

    def visit_With(self, node: cst.With) -> None:
        if any(self.c.is_tape(item.item) for item in node.items):
            self.tape_stack[-1].append(node)
            fn = self.fn_stack[-1]
            self.fns_with_tapes.add(fn.node if fn is not None else None)
            for item in node.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    self.c._tape_names[id(item.item)] = item.asname.name.value

    def leave_With(self, node: cst.With) -> None:
        if self.tape_stack[-1] and self.tape_stack[-1][-1] is node:
            self.tape_stack[-1].pop()

    def visit_Call(self, node: cst.Call) -> None:
        fn = self.fn_stack[-1]
        tape = self.tape_stack[-1][-1] if self.tape_stack[-1] else None
        site = _Site(node, fn, self.cls_stack[-1], tape)
        key = fn.node if fn is not None else None
        self.calls_by_fn.setdefault(key, []).append(site)
        self.sites.append(site)


class TapeCallWithoutTraining(Checker):
    code = "BN001"

    def is_tape(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Call):
            return False
        q = self.ctx.index.qualify(expr.func)
        return q is not None and q in self.ctx.api.gradient_tapes

    # -- which functions run as training code --------------------------------
    def _local_target(self, site: _Site) -> Optional[FunctionInfo]:
        func = site.call.func
        ix = self.ctx.index
        if isinstance(func, cst.Name):
            return ix.functions.get(func.value)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                and func.value.value == "self" and site.cls is not None:
            cls = site.cls
            for c in [cls] + ix.local_bases(cls):
                if func.attr.value in c.methods and func.attr.value != "call":
                    return c.methods[func.attr.value]
        return None

    def _training_functions(self, col: _Collector) -> Dict[cst.FunctionDef, str]:
        """Functions reached from tape blocks or train_step: node -> why."""
        reached: Dict[cst.FunctionDef, str] = {}
        todo: List[Tuple[FunctionInfo, str]] = []
        for site in col.sites:
            if site.tape_line is not None:
                target = self._local_target(site)
                if target is not None:
                    todo.append((target, f"the GradientTape block at line {self.line_of(site.tape_line)}"))
        ix = self.ctx.index
        for cls in ix.classes.values():
            if ix.class_kind(cls) == "model":
                for name in self.ctx.api.train_step_methods:
                    if name in cls.methods:
                        todo.append((cls.methods[name], ""))
        depth = 0
        while todo and depth < 4:
            nxt: List[Tuple[FunctionInfo, str]] = []
            for fn, why in todo:
                if fn.node in reached:
                    continue
                owner = f"{fn.cls.name}." if fn.cls is not None else ""
                here = f"`{owner}{fn.name}()`"
                reached[fn.node] = f"in {here}, called from {why}," if why else f"in {here}"
                for site in col.calls_by_fn.get(fn.node, []):
                    target = self._local_target(site)
                    if target is not None and target.node not in reached:
                        nxt.append((target, why or here))
            todo, depth = nxt, depth + 1
        return reached

    # -- one call ------------------------------------------------------------
    def _passes_training_positionally(self, call: cst.Call, info_cls: Optional[ClassInfo]) -> bool:
        if info_cls is None or "call" not in info_cls.methods:
            return False
        params = [p for p in info_cls.methods["call"].params if p != "self"]
        if "training" not in params:
            return False
        positional = [a for a in call.args if a.keyword is None and not a.star]
        return len(positional) > params.index("training")

    def _callee_class(self, func: cst.BaseExpression, site: _Site) -> Optional[ClassInfo]:
        """The class (of this file or of the user's other module) a callee is
        an instance of, when that is plain to see."""
        ix = self.ctx.index
        values: List[cst.BaseExpression] = []
        if isinstance(func, cst.Name):
            if func.value == "self":
                return site.cls
            fn = site.fn
            values = (fn.assigns.get(func.value) if fn else None) or ix.module_assigns.get(func.value, [])
            if fn is not None and func.value in fn.params and func.value not in fn.assigns:
                values = self._arguments_for(fn, func.value)  # train(model, ...) called with Net()
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                and func.value.value == "self" and site.cls is not None:
            values = site.cls.self_assigns.get(func.attr.value, [])
        for v in values:
            if not isinstance(v, cst.Call):
                continue
            if isinstance(v.func, cst.Name) and v.func.value in ix.classes:
                return ix.classes[v.func.value]
            target = ix.external_target(ix.qualify(v.func))  # a class of the user's other module
            if target is not None and target[1] in target[0].classes:
                return target[0].classes[target[1]]
        return None

    def _arguments_for(self, fn: FunctionInfo, param: str) -> List[cst.BaseExpression]:
        """What the file's calls of `fn` pass for `param`, with names in the
        caller's scope replaced by what they were assigned."""
        ix = self.ctx.index
        out: List[cst.BaseExpression] = []
        for call, scope in ix.calls_by_name.get(fn.name, []):
            arg = bound_argument(call, fn, param)
            if arg is None:
                continue
            value = arg.value
            if isinstance(value, cst.Name):
                bound = (scope.assigns.get(value.value) if scope else None) or \
                    ix.module_assigns.get(value.value, [])
                out += bound
            else:
                out.append(value)
        return out

    def _gradient_sources(self, call: cst.Call) -> Optional[Set[str]]:
        """Owners of the variables a `tape.gradient(loss, sources)` call
        differentiates, or None when they cannot be told."""
        sources = kwarg(call, "sources")
        if sources is None:
            positional = [a for a in call.args if a.keyword is None]
            if len(positional) < 2:
                return None
            sources = positional[1]
        found = _variable_owners(sources.value, self.ctx.api.variable_attributes)
        return found or None

    def _trained_objects(self, site: _Site) -> Optional[Set[str]]:
        """What the gradients of the tape around `site` are taken for: the
        `<tape>.gradient(...)` calls after the block, up to the next tape
        bound to the same name. None when that cannot be told."""
        key = id(site.tape_line)
        if key in self._trained_cache:
            return self._trained_cache[key]
        calls = site.fn.calls if site.fn is not None else self.ctx.index.module_calls
        with_node = site.tape_line
        tape_names = [item.asname.name.value for item in with_node.items
                      if item.asname is not None and isinstance(item.asname.name, cst.Name)]
        starts = [item.item for item in with_node.items]
        trained: Optional[Set[str]] = None
        if tape_names and any(c in starts for c in calls):
            begin = max(i for i, c in enumerate(calls) if c in starts)
            trained = set()
            live = set(tape_names)  # `with A() as g_tape, B() as d_tape:` trains both
            for call in calls[begin + 1:]:
                func = call.func
                if self.is_tape(call) and call not in starts:
                    live.discard(self._tape_names.get(id(call)))
                    if not live:
                        break
                if isinstance(func, cst.Attribute) and func.attr.value == "gradient" \
                        and dotted(func.value) in live:
                    owners = self._gradient_sources(call)
                    if owners is None:
                        trained = None
                        break
                    trained |= owners
            if trained is not None and not trained:
                trained = None  # no gradient call seen for this tape
        self._trained_cache[key] = trained
        return trained

    def _is_trained(self, target: cst.BaseExpression, site: _Site, why: str) -> bool:
        """A model called in a tape but not among the things the tape trains
        (a frozen teacher, the other half of a GAN) is not reported."""
        if site.tape_line is None:
            return True
        trained = self._trained_objects(site)
        text = dotted(target)
        if trained is None or text is None:
            return True
        return any(text == t or text.startswith(t + ".") for t in trained)

    def _check_site(self, site: _Site, why: str) -> None:
        call = site.call
        if has_star_kwargs(call):
            return
        training = kwarg(call, "training")
        if training is not None and not is_literal(training.value, "None"):
            return
        ix = self.ctx.index
        func = call.func
        direct = isinstance(func, cst.Attribute) and func.attr.value == "call"
        target = func.value if direct else func
        if direct and isinstance(target, cst.Call):
            return  # super().call(...) and friends: not a model object
        info: KerasInfo = ix.callee_info(target, site.fn, site.cls)
        if not info.may_hold_mode_layers:
            return
        if not self._is_trained(target, site, why):
            return
        callee_cls = None if direct else self._callee_class(target, site)
        if callee_cls is not None and _defaults_to_training(callee_cls):
            return  # Keras falls back to call()'s default: it trains (BN002 reports the default)
        if not direct and self._passes_training_positionally(call, callee_cls):
            return
        if not direct and passes_training(call):
            return
        name = source_of(target) if not isinstance(target, cst.Call) else source_of(target.func) + "(...)"
        if info.contents == Contents.SENSITIVE:
            holds = f"its {info.what} runs in inference mode"
        else:
            holds = f"if it holds BatchNormalization or Dropout ({info.what}), they run in inference mode"
        variant = "direct_call" if direct else ("explicit_none" if training is not None else "default")
        self.report(call, variant, callee=name, holds=holds, where=why)

    def check(self) -> None:
        if self.ctx.flavour == "keras2" and _LEARNING_PHASE_ON.search(self.ctx.source):
            return  # Keras 2: set_learning_phase(1) makes every call train
        self._trained_cache: Dict[object, Optional[Set[str]]] = {}
        self._tape_names: Dict[int, str] = {}
        col = _Collector(self)
        walk(self.ctx.module, col)
        training_fns = self._training_functions(col) if col.sites else {}
        for site in col.sites:
            if site.tape_line is not None:
                why = "inside a GradientTape block"
            elif site.fn is not None and site.fn.node in training_fns:
                if site.fn.node in col.fns_with_tapes:
                    continue  # outside the tapes of a step that has tapes: not trained
                why = training_fns[site.fn.node]
            else:
                continue
            self._check_site(site, why)


def _variable_owners(expr: cst.BaseExpression, attrs: frozenset) -> Set[str]:
    """`a.trainable_variables + self.b.trainable_weights` -> {"a", "self.b"}."""
    owners: Set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if node.attr.value in attrs:
                text = dotted(node.value)
                if text:
                    owners.add(text)

    expr.visit(_V())
    return owners


def _defaults_to_training(cls: ClassInfo) -> bool:
    call = cls.methods.get("call")
    default = call.params.get("training") if call is not None else None
    return default is not None and is_literal(default, "True")
