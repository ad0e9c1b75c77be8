"""BN001: a Keras model or layer called without `training` where it trains.

Training code is: the body of a `with tf.GradientTape()` block, a function
of the same file that such a block calls (transitively, through the call
graph), a `train_step` override of a Keras Model, and (Keras 3 on
PyTorch) a loop whose body calls `.backward()` and `.step()`, outside
`torch.no_grad()` (training_code.py). A call there
without `training` (or with `training=None`), or a direct `.call()`, runs
BatchNormalization and Dropout in inference mode.

Fix: `model(x)` / `model(x, training=None)` -> `model(x, training=True)`;
safe inside the tape block or train_step, unsafe in a helper the tape
reaches (it may also run at evaluation) and for a direct `.call()`.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Dict, List, Optional, Set, Tuple

from ..semantic import SemanticModel
from ..semantic.callgraph import bound_argument
from ..semantic.resolve import dotted
from ..semantic.scopes import CallSite, Scope, ScopeKind
from ..semantic.values import Contents, KerasInfo, is_const
from .base import Rule, has_star_kwargs, kwarg, last, passes_training, words
from .tables import family_tables
from .training_code import torch_training_loops, training_loop_of

_LEARNING_PHASE_ON = re.compile(r"set_learning_phase\(\s*(?:1|True)\s*\)")


class Variant(Enum):
    DEFAULT = "default"
    EXPLICIT_NONE = "explicit_none"
    DIRECT_CALL = "direct_call"


class TapeCallWithoutTraining(Rule):
    code = "BN001"
    Variant = Variant
    # BN001 reports a callee whose BatchNormalization / Dropout bnlint sees;
    # BN011 the same call of one whose contents it cannot see.
    seen_contents = True

    @classmethod
    def stage1(cls, api):
        tapes = {last(t) for t in api.gradient_tapes}
        backward = family_tables(api).backward_methods  # Keras 3 on PyTorch: loss.backward() in a loop
        return (re.compile(b"(?:" + words(tapes) + b")|def\\s+(?:" + words(api.train_step_methods) + b")\\b"
                           + b"|\\.(?:" + words(backward) + b")\\s*\\("),)

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        api = model.api
        if any(is_tape(model, item.context_expr) for node, _ in model.scopes.withs for item in node.items):
            return True
        if any(name in c.methods for c in model.scopes.classes for name in api.train_step_methods):
            return True
        return bool(torch_training_loops(model))

    # -- which functions run as training code --------------------------------
    def _local_target(self, site: CallSite) -> Optional[Scope]:
        target = self.ctx.values.graph.target(site)
        if target is None or target.kind is not ScopeKind.FUNCTION or target.name == "call":
            return None
        return target

    def _training_functions(self, sites: List[Tuple[CallSite, Optional[ast.AST]]]) -> Dict[int, str]:
        """Functions reached (call graph, up to four calls deep) from tape
        blocks or train_step: id(scope) -> how the message says where."""
        values = self.ctx.values
        starts: List[Tuple[Scope, object]] = []
        for site, tape in sites:
            if tape is not None:
                target = self._local_target(site)
                if target is not None:
                    starts.append((target, f"the GradientTape block at line {self.line_of(tape)}"))
        for cls in self.ctx.scopes.classes:
            if values.class_kind(cls) == "model":
                for name in sorted(self.ctx.api.train_step_methods):
                    if name in cls.methods:
                        starts.append((cls.methods[name], cls.methods[name]))  # labelled by itself
        follow = lambda t: t.kind is ScopeKind.FUNCTION and t.name != "call"  # noqa: E731
        reached: Dict[int, str] = {}
        for key, (fn, label) in values.graph.reachable(starts, 4, follow).items():
            here = _where(fn)
            if isinstance(label, str):
                reached[key] = f"in {here}, called from {label},"
            elif label is fn:
                reached[key] = f"in {here}"
            else:
                reached[key] = f"in {here}, called from {_where(label)},"
        return reached

    # -- one call ------------------------------------------------------------
    def _passes_training_positionally(self, call: ast.Call, callee_cls: Optional[Scope]) -> bool:
        if callee_cls is None or "call" not in callee_cls.methods:
            return False
        params = [p for p in callee_cls.methods["call"].params if p != "self"]
        if "training" not in params:
            return False
        positional = [a for a in call.args if not isinstance(a, ast.Starred)]
        return len(positional) > params.index("training")

    def _callee_class(self, func: ast.AST, site: CallSite) -> Optional[Scope]:
        """The class (of this file or of the user's other module) a callee is
        an instance of, when that is plain to see."""
        values = self.ctx.values
        cls = site.scope.cls
        found: List[ast.AST] = []
        if isinstance(func, ast.Name):
            if func.id == "self":
                return cls
            for b in self.ctx.names.bindings_of(func):
                if b.value is not None and b.kind.value == "assignment":
                    found.append(b.value)
                elif b.kind.value == "argument":
                    found += self._arguments_for(b.scope, func.id)  # train(model, ...) called with Net()
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "self" and cls is not None:
            found = [v for v, _ in cls.self_assigns.get(func.attr, [])]
        for v in found:
            if not isinstance(v, ast.Call):
                continue
            d = values.definition(v.func, ScopeKind.CLASS)
            if d is not None:
                return d
            target = values.external_target(values.qualify(v.func))  # a class of the user's other module
            if target is not None:
                d = target[0].module_definition(target[1])
                if d is not None and d.kind is ScopeKind.CLASS:
                    return d
        return None

    def _arguments_for(self, fn: Scope, param: str) -> List[ast.AST]:
        """What the file's calls of `fn` pass for `param`, with names
        replaced by what they were assigned where the call is written."""
        out: List[ast.AST] = []
        if fn.kind is not ScopeKind.FUNCTION:
            return out
        for call, _ in self.ctx.values.graph.callers(fn):
            value = bound_argument(call, fn, param)
            if value is None:
                continue
            if isinstance(value, ast.Name):
                out += [b.value for b in self.ctx.names.bindings_of(value) if b.kind.value == "assignment"]
            else:
                out.append(value)
        return out

    def _gradient_sources(self, call: ast.Call) -> Optional[Set[str]]:
        """Owners of the variables a `tape.gradient(loss, sources)` call
        differentiates, or None when they cannot be told."""
        sources = kwarg(call, "sources")
        value = sources.value if sources is not None else None
        if value is None:
            positional = call.args
            if len(positional) < 2:
                return None
            value = positional[1]
        found = _variable_owners(value, self.ctx.api.variable_attributes)
        return found or None

    def _trained_objects(self, site: CallSite, tape: ast.AST) -> Optional[Set[str]]:
        """What the gradients of the tape around `site` are taken for: the
        `<tape>.gradient(...)` calls after the block, up to the next tape
        bound to the same name. None when that cannot be told."""
        key = id(tape)
        if key in self._trained_cache:
            return self._trained_cache[key]
        scope = site.scope.function or self.ctx.scopes.module
        calls = scope.calls
        tape_names = [item.optional_vars.id for item in tape.items if isinstance(item.optional_vars, ast.Name)]
        starts = {id(item.context_expr) for item in tape.items}
        trained: Optional[Set[str]] = None
        index = [i for i, c in enumerate(calls) if id(c) in starts]
        if tape_names and index:
            begin = max(index)
            trained = set()
            live = set(tape_names)  # `with A() as g_tape, B() as d_tape:` trains both
            watched: Set[str] = set()
            only_watched = False
            for call in calls[begin + 1:]:
                func = call.func
                if id(call) not in starts and is_tape(self.ctx.model, call):
                    live.discard(self._tape_names.get(id(call)))
                    if not live:
                        break
                if isinstance(func, ast.Attribute) and func.attr == "watch" and dotted(func.value) in live:
                    watched |= {dotted(a) for a in call.args if dotted(a)}
                if isinstance(func, ast.Attribute) and func.attr == "gradient" and dotted(func.value) in live:
                    if _only_names(_sources_of(call), watched):
                        only_watched = True  # saliency / FGSM: gradients of inputs, nothing trained
                        continue
                    owners = self._gradient_sources(call)
                    if owners is None:
                        trained = None
                        break
                    trained |= owners
            if trained is not None and not trained and not only_watched:
                trained = None  # no gradient call seen for this tape
        self._trained_cache[key] = trained
        return trained

    def _is_trained(self, target: ast.AST, site: CallSite, tape: Optional[ast.AST]) -> bool:
        """A model called in a tape but not among the things the tape trains
        (a frozen teacher, the other half of a GAN) is not reported."""
        if tape is None:
            return True
        trained = self._trained_objects(site, tape)
        text = dotted(target)
        if trained is None or text is None:
            return True
        return any(text == t or text.startswith(t + ".") for t in trained)

    def _check_site(self, site: CallSite, tape: Optional[ast.AST], why: str) -> None:
        call = site.call
        if has_star_kwargs(call):
            return
        training = kwarg(call, "training")
        if training is not None and not is_const(training.value, None):
            return
        values = self.ctx.values
        func = call.func
        direct = isinstance(func, ast.Attribute) and func.attr == "call"
        target = func.value if direct else func
        if direct and isinstance(target, ast.Call):
            return  # super().call(...) and friends: not a model object
        first = call.args[0] if call.args and not isinstance(call.args[0], ast.Starred) else None
        if first is not None and self.ctx.values.symbolic(first):
            return  # a layer applied to a symbolic Input builds a model; it does not train
        scope = site.scope
        info: KerasInfo = values.callee_info(target, scope, scope.cls)
        if not info.may_hold_mode_layers:
            return
        if not self._is_trained(target, site, tape):
            return
        callee_cls = None if direct else self._callee_class(target, site)
        if callee_cls is not None and _defaults_to_training(callee_cls):
            return  # Keras falls back to call()'s default: it trains (BN002 reports the default)
        if not direct and self._passes_training_positionally(call, callee_cls):
            return
        if not direct and passes_training(call):
            return
        name = self.ctx.segment(target) if not isinstance(target, ast.Call) \
            else self.ctx.segment(target.func) + "(...)"
        seen = info.contents == Contents.SENSITIVE
        if seen != self.seen_contents:
            return  # a guess is BN011's (off by default), a seen batch norm BN001's
        if seen:
            holds = f"its {info.what} runs in inference mode"
        else:
            holds = f"if it holds BatchNormalization or Dropout ({info.what}), they run in inference mode"
        variant = Variant.DIRECT_CALL if direct else (Variant.EXPLICIT_NONE if training is not None
                                                      else Variant.DEFAULT)
        only_trains = tape is not None and scope.kind is not ScopeKind.LAMBDA or (
            tape is None and scope.kind is ScopeKind.FUNCTION and scope.name in self.ctx.api.train_step_methods)
        self.report(call, variant, callee=name, holds=holds, where=why,
                    context={"safe": only_trains and not direct})

    def check(self) -> None:
        if self.ctx.flavour == "keras2" and _LEARNING_PHASE_ON.search(self.ctx.source):
            return  # Keras 2: set_learning_phase(1) makes every call train
        model = self.ctx.model
        self._trained_cache: Dict[int, Optional[Set[str]]] = {}
        self._tape_names: Dict[int, str] = {}
        tapes: Set[int] = set()
        fns_with_tapes: Set[int] = set()
        for node, scope in model.scopes.withs:
            if any(is_tape(model, item.context_expr) for item in node.items):
                tapes.add(id(node))
                fn = scope.function
                fns_with_tapes.add(id(fn) if fn is not None else 0)
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        self._tape_names[id(item.context_expr)] = item.optional_vars.id
        sites = []
        # `BatchNormalization()(x)`: the layer runs at the outer call; the
        # inner one only builds it
        built = {id(site.call.func) for site in model.scopes.sites if isinstance(site.call.func, ast.Call)}
        for site in model.scopes.sites:
            if id(site.call) in built:
                continue
            tape = next((w for w in reversed(site.withs) if id(w) in tapes), None)
            sites.append((site, tape))
        training_fns = self._training_functions(sites) if sites else {}
        loops = torch_training_loops(model)
        for site, tape in sites:
            if tape is not None:
                why = "inside a GradientTape block"
            elif training_loop_of(model, site, loops) is not None:
                why = "in a `.backward()` / `.step()` training loop"
            else:
                fn = site.scope.function
                if fn is None or id(fn) not in training_fns:
                    continue
                if id(fn) in fns_with_tapes:
                    continue  # outside the tapes of a step that has tapes: not trained
                why = training_fns[id(fn)]
            self._check_site(site, tape, why)


def is_tape(model: SemanticModel, expr: ast.AST) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    q = model.names.qualify(expr.func)
    return q is not None and q in model.api.gradient_tapes


def _variable_owners(expr: ast.AST, attrs: frozenset) -> Set[str]:
    """`a.trainable_variables + self.b.trainable_weights` -> {"a", "self.b"}."""
    owners: Set[str] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute) and node.attr in attrs:
            text = dotted(node.value)
            if text:
                owners.add(text)
    return owners


def _where(fn: Scope) -> str:
    owner = f"{fn.cls.name}." if fn.cls is not None else ""
    return f"`{owner}{fn.name}()`"


def _sources_of(call: ast.Call) -> Optional[ast.AST]:
    kw = kwarg(call, "sources")
    if kw is not None:
        return kw.value
    return call.args[1] if len(call.args) >= 2 else None


def _only_names(expr: Optional[ast.AST], watched: Set[str]) -> bool:
    """`x` or `[x, y]` where every name is one the tape watches."""
    if expr is None or not watched:
        return False
    items = expr.elts if isinstance(expr, (ast.List, ast.Tuple)) else [expr]
    return bool(items) and all(dotted(item) in watched for item in items)


def _defaults_to_training(cls: Scope) -> bool:
    call = cls.methods.get("call")
    default = call.params.get("training") if call is not None else None
    return is_const(default, True)


# -- fixes (libcst, built only for files with findings) -----------------------
def _with_training_true(call, api):
    import libcst as cst

    from ..fixes.layout import add_keyword

    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == "training":
            args[i] = arg.with_changes(value=cst.Name("True"))
            return call.with_changes(args=args)
    plain = [i for i, a in enumerate(args) if a.keyword is None and not a.star]
    slot = list(api.model_call_parameters).index("training")
    if len(plain) > slot:
        # Keras' call(inputs, training=None, mask=None): this argument is
        # `training`. Only a literal None in that slot, with nothing after
        # it, can become the keyword; otherwise no fix (api.yaml).
        i = plain[slot]
        value = args[i].value
        if i != len(args) - 1 or not (isinstance(value, cst.Name) and value.value == "None"):
            return None
        none = cst.SimpleWhitespace("")
        args[i] = args[i].with_changes(keyword=cst.Name("training"), value=cst.Name("True"),
                                       equal=cst.AssignEqual(whitespace_before=none, whitespace_after=none))
        return call.with_changes(args=args)
    if len(args) == 1 and isinstance(args[0].value, cst.GeneratorExp) and not args[0].value.lpar:
        # `model(v for v in xs)`: a generator needs its own parentheses once
        # a second argument follows.
        gen = args[0].value
        call = call.with_changes(args=[args[0].with_changes(
            value=gen.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))])
    return add_keyword(call, "training", cst.Name("True"))


def fix_missing(fctx, report):
    """`model(x)` / `model(x, training=None)` -> `model(x, training=True)`."""
    import libcst as cst

    from ..finding import Fix

    call = fctx.locate(report.node, cst.Call)
    new = _with_training_true(call, fctx.ctx.api) if call is not None else None
    if new is None:
        return None
    safety = "safe" if report.context.get("safe") else "unsafe"
    message = "Pass `training=True`" if report.variant is Variant.DEFAULT else \
        "Replace `training=None` by `training=True`"
    return Fix(message, safety, fctx.edits({call: new}))


def fix_direct_call(fctx, report):
    """`model.call(x)` -> `model(x, training=True)`."""
    import libcst as cst

    from ..finding import Fix

    call = fctx.locate(report.node, cst.Call)
    if call is None or not isinstance(call.func, cst.Attribute):
        return None
    new = _with_training_true(call.with_changes(func=call.func.value), fctx.ctx.api)
    if new is None:
        return None
    return Fix("Call the model (`__call__`) with `training=True` instead of `.call()`", "unsafe",
               fctx.edits({call: new}))


TapeCallWithoutTraining.fixers = {
    Variant.DEFAULT: fix_missing,
    Variant.EXPLICIT_NONE: fix_missing,
    Variant.DIRECT_CALL: fix_direct_call,
}


class TapeCallOfUnseenModel(TapeCallWithoutTraining):
    """BN011 (off by default): BN001's call of a Keras model whose contents
    bnlint cannot see (loaded at run time, passed in from another file,
    built by code it cannot follow). On the repositories of
    benchmarks/realworld such guesses were right 1 time in 14 once the
    models that can be followed were (README, section 8)."""

    code = "BN011"
    seen_contents = False
