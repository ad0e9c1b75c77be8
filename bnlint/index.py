"""What one file defines, and what its names hold.

One visitor pass records the file's classes, functions, assignments and
calls per scope. Rules then ask: "is `model` here a Keras model, and can it
hold a mode-sensitive layer?" The answer is a `KerasInfo`: NONE (not a Keras
model/layer as far as the file shows), CLEAN (built here from layers none of
which depend on the mode), OPAQUE (a Keras object whose contents are not in
this file) or SENSITIVE (holds BatchNormalization/Dropout/...).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Dict, List, Optional, Set

import libcst as cst

from .api import Api
from .names import NameResolver, dotted
from .project import ModuleLocator
from .walk import walk

BUILTINS = frozenset(dir(builtins))


class Contents(IntEnum):
    NONE = 0
    CLEAN = 1
    OPAQUE = 2
    SENSITIVE = 3


@dataclass(frozen=True)
class KerasInfo:
    contents: Contents
    what: str = ""  # e.g. "BatchNormalization", "a model loaded at run time"

    @property
    def is_keras(self) -> bool:
        return self.contents >= Contents.CLEAN

    @property
    def may_hold_mode_layers(self) -> bool:
        return self.contents >= Contents.OPAQUE


NONE = KerasInfo(Contents.NONE)
CLEAN = KerasInfo(Contents.CLEAN)


def is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def join(*infos: KerasInfo) -> KerasInfo:
    best = NONE
    for info in infos:
        if info.contents > best.contents:
            best = info
    return best


@dataclass
class FunctionInfo:
    node: cst.FunctionDef
    cls: Optional["ClassInfo"]
    params: Dict[str, Optional[cst.BaseExpression]] = field(default_factory=dict)
    assigns: Dict[str, List[cst.BaseExpression]] = field(default_factory=dict)
    unknown_bindings: Set[str] = field(default_factory=set)
    calls: List[cst.Call] = field(default_factory=list)
    returns: List[cst.BaseExpression] = field(default_factory=list)
    parent: Optional["FunctionInfo"] = None  # the function this one is defined in

    @property
    def name(self) -> str:
        return self.node.name.value

    def param_names(self) -> List[str]:
        return list(self.params)


@dataclass
class ClassInfo:
    node: cst.ClassDef
    name: str
    bases: List[cst.BaseExpression]
    methods: Dict[str, FunctionInfo] = field(default_factory=dict)
    self_assigns: Dict[str, List[cst.BaseExpression]] = field(default_factory=dict)
    constructed_in: Set[str] = field(default_factory=set)  # classes that build it


def bound_argument(call: cst.Call, fn: "FunctionInfo", param: str) -> Optional[cst.Arg]:
    """The argument a call of `fn` binds to `param`, by keyword or by
    position (`self` not counted), or None when the call leaves it out."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == param:
            return arg
    positional = [p for p in fn.params if p != "self"]
    if param not in positional:
        return None
    plain = [a for a in call.args if a.keyword is None and not a.star]
    index = positional.index(param)
    return plain[index] if index < len(plain) else None


def _params(fn: cst.FunctionDef) -> Dict[str, Optional[cst.BaseExpression]]:
    out: Dict[str, Optional[cst.BaseExpression]] = {}
    p = fn.params
    for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        out[param.name.value] = param.default
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            out[star.name.value] = None
    return out


def _target_names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        names: List[str] = []
        for el in target.elements:
            names += _target_names(el.value)
        return names
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


class _Indexer:
    def __init__(self, index: "FileIndex") -> None:
        self.ix = index
        self.fn_stack: List[FunctionInfo] = []
        self.cls_stack: List[ClassInfo] = []

    # -- scopes -------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        info = ClassInfo(node, node.name.value, [a.value for a in node.bases if a.keyword is None])
        self.ix.classes.setdefault(info.name, info)
        self.ix.class_by_node[node] = info
        self.cls_stack.append(info)
        self.fn_stack.append(None)  # class body is not a function scope

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.cls_stack.pop()
        self.fn_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        direct_cls = self.cls_stack[-1] if self.cls_stack and self.fn_stack and self.fn_stack[-1] is None else None
        owner = self.cls_stack[-1] if self.cls_stack else None
        info = FunctionInfo(node, owner, _params(node))
        info.parent = next((f for f in reversed(self.fn_stack) if f is not None), None)
        self.ix.function_by_node[node] = info
        if direct_cls is not None:
            direct_cls.methods.setdefault(node.name.value, info)
        else:
            self.ix.functions.setdefault(node.name.value, info)
        self.fn_stack.append(info)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.fn_stack.pop()

    def _scope(self) -> Optional[FunctionInfo]:
        return self.fn_stack[-1] if self.fn_stack else None

    # -- bindings -----------------------------------------------------------
    def _bind(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        fn = self._scope()
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                and target.value.value == "self" and self.cls_stack and value is not None:
            self.cls_stack[-1].self_assigns.setdefault(target.attr.value, []).append(value)
            self.ix.value_scope[id(value)] = fn
            return
        names = _target_names(target)
        single = isinstance(target, cst.Name)
        for name in names:
            if fn is None:
                if self.cls_stack:
                    continue  # class attributes are not module names
                if single and value is not None:
                    self.ix.module_assigns.setdefault(name, []).append(value)
                else:
                    self.ix.module_unknown.add(name)
            elif single and value is not None:
                fn.assigns.setdefault(name, []).append(value)
            else:
                fn.unknown_bindings.add(name)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(t.target, node.value)
            target = t.target
            if isinstance(target, cst.Attribute) and target.attr.value == "trainable" \
                    and isinstance(node.value, cst.Name) and node.value.value in ("True", "False"):
                owner = dotted(target.value)
                if owner:
                    self.ix.trainable_set.setdefault(owner, set()).add(node.value.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_Return(self, node: cst.Return) -> None:
        fn = self._scope()
        if fn is not None and node.value is not None:
            fn.returns.append(node.value)

    # -- calls and evidence -------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        fn = self._scope()
        (fn.calls if fn is not None else self.ix.module_calls).append(node)
        if isinstance(node.func, cst.Name):
            self.ix.calls_by_name.setdefault(node.func.value, []).append((node, fn))
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("add", "append", "extend", "insert") \
                and node.args:
            # model.add(layer); outputs.append(tensor): what the name comes to hold
            owner = dotted(func.value)
            if owner:
                self.ix.added_layers.setdefault(owner, []).append(node.args[-1].value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in self.ix.api.keras_evidence:
            text = dotted(node.value)
            if text:
                self.ix.evidence.add(text)


class FileIndex:
    """The facts of one file that the Keras rules share."""

    def __init__(self, module: cst.Module, resolver: NameResolver, api: Api,
                 locator: Optional["ModuleLocator"] = None) -> None:
        self.module = module
        self.locator = locator
        self._external: Dict[str, Optional["FileIndex"]] = {}
        self.names = resolver
        self.api = api
        self.classes: Dict[str, ClassInfo] = {}
        self.class_by_node: Dict[cst.ClassDef, ClassInfo] = {}
        self.functions: Dict[str, FunctionInfo] = {}
        self.function_by_node: Dict[cst.FunctionDef, FunctionInfo] = {}
        self.module_assigns: Dict[str, List[cst.BaseExpression]] = {}
        self.module_unknown: Set[str] = set()
        self.module_calls: List[cst.Call] = []
        self.added_layers: Dict[str, List[cst.BaseExpression]] = {}
        self.evidence: Set[str] = set()
        self.value_scope: Dict[int, Optional[FunctionInfo]] = {}
        # `base.trainable = False` (and never True): its BN runs in inference
        # mode whatever `training` says, so calling it without is no bug.
        self.trainable_set: Dict[str, Set[str]] = {}
        self.calls_by_name: Dict[str, List[tuple]] = {}
        self._memo: Dict[object, KerasInfo] = {}
        self._known = api.all_known_names()
        walk(module, _Indexer(self))

    # -- names ---------------------------------------------------------------
    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        q = self.names.qualify(node)
        if q is None and isinstance(node, cst.Name) and self.names.star_modules \
                and node.value not in self.classes and node.value not in self.functions:
            q = self.names.qualify_star(node.value, self._known)
        return q

    # -- the user's other modules -------------------------------------------
    def external_target(self, qualified: Optional[str]) -> Optional[tuple]:
        """(index of the project module, name in it) for `pkg.mod.Name`, or
        None when pkg/mod.py is not a file of the user's project."""
        if not qualified or self.locator is None \
                or qualified.split(".")[0] in self.api.clean_libraries:
            return None
        module, _, attr = qualified.rpartition(".")
        if not module:
            return None
        if module not in self._external:
            self._external[module] = None
            path = self.locator.find(module)
            parsed = self.locator.load(path) if path is not None else None
            if parsed is not None:
                self._external[module] = FileIndex(parsed, NameResolver.from_module(parsed),
                                                   self.api, self.locator.child(path))
        other = self._external[module]
        return (other, attr) if other is not None else None

    def star_qualify(self, name: str) -> Optional[str]:
        """A bare name that may come from `from mymodule import *`."""
        for module in sorted(self.names.star_modules):
            target = self.external_target(f"{module}.{name}")
            if target is not None and (name in target[0].functions or name in target[0].classes):
                return f"{module}.{name}"
        return None

    def external(self, qualified: str, builds: bool = False) -> Optional[KerasInfo]:
        """What `pkg.mod.Name` holds when pkg/mod.py is a file of the user's
        project; None when it is not (a pip package, a missing file).
        builds=True: for a function, every layer it builds (a call inside a
        functional model), not only what it returns."""
        target = self.external_target(qualified)
        if target is None:
            return None
        other, attr = target
        if attr in other.classes:
            return other.class_contents(other.classes[attr])
        if attr in other.functions:
            fn = other.functions[attr]
            if builds:
                return other.scope_contents(fn)
            return join(*(other.expr_info(r, fn, fn.cls) for r in fn.returns))
        if attr in other.module_assigns:
            return other.name_info(attr, None, None)
        return None

    # -- classes -------------------------------------------------------------
    def keras_bases(self, cls: ClassInfo) -> List[str]:
        """Qualified Keras bases of a class, through the file's own classes."""
        return [q for q, _ in self._keras_base_nodes(cls)]

    def keras_base_raw(self, cls: ClassInfo) -> Optional[str]:
        """How the first Keras base was spelled by its import (before folding):
        `tf_keras.Model`, `tensorflow.keras.Model`, `keras.Model`."""
        found = self._keras_base_nodes(cls)
        return self.names.raw(found[0][1]) if found else None

    def _keras_base_nodes(self, cls: ClassInfo) -> List[tuple]:
        """(qualified name, base expression) of each Keras base, memoised."""
        key = ("bases", id(cls))
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]
        found: List[tuple] = []
        todo, seen = [cls], set()
        while todo:
            c = todo.pop(0)
            if c.name in seen:
                continue
            seen.add(c.name)
            for base in c.bases:
                q = self.qualify(base)
                if q is not None and (self.api.is_model_base(q) or self.api.is_layer_base(q)):
                    found.append((q, base))
                elif q is None and isinstance(base, cst.Name) and base.value in self.classes:
                    todo.append(self.classes[base.value])
        self._memo[key] = found  # type: ignore[assignment]
        return found

    def class_kind(self, cls: ClassInfo) -> Optional[str]:
        """"model", "layer" or None (not a Keras class as far as the file shows)."""
        bases = self.keras_bases(cls)
        if any(self.api.is_model_base(q) for q in bases):
            return "model"
        return "layer" if bases else None

    def keras_base(self, cls: ClassInfo) -> Optional[str]:
        """The first Keras base this class derives from, through local classes."""
        bases = self.keras_bases(cls)
        return bases[0] if bases else None

    def local_bases(self, cls: ClassInfo) -> List[ClassInfo]:
        return [self.classes[b.value] for b in cls.bases
                if isinstance(b, cst.Name) and b.value in self.classes and b.value != cls.name]

    def class_contents(self, cls: ClassInfo) -> KerasInfo:
        key = ("class", cls.name)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = CLEAN  # cycle guard
        if self.class_kind(cls) is None:
            result = NONE
        else:
            parts = [CLEAN]
            base = self.keras_base(cls)
            if base is not None and self.api.is_mode_sensitive_layer(base):
                parts.append(KerasInfo(Contents.SENSITIVE, base.rsplit(".", 1)[-1]))
            for parent in self.local_bases(cls):
                parts.append(self.class_contents(parent))
            for method in cls.methods.values():
                parts.append(self.scope_contents(method))
            result = join(*parts)
        self._memo[key] = result
        return result

    def self_attr_info(self, cls: Optional[ClassInfo], attr: str) -> Optional[KerasInfo]:
        """What `self.<attr>` holds, from assignments in the class and its local bases."""
        if cls is None:
            return None
        values = []
        todo, seen = [cls], set()
        while todo:
            c = todo.pop()
            if c.name in seen:
                continue
            seen.add(c.name)
            values += [(v, c) for v in c.self_assigns.get(attr, [])]
            todo += self.local_bases(c)
        if not values:
            return None
        infos = []
        for value, owner in values:
            scope = self.value_scope.get(id(value))
            if isinstance(value, cst.Name) and scope is not None and value.value in scope.params \
                    and value.value not in scope.assigns:
                infos.append(self._argument_info(owner, scope, value.value, attr))
            else:
                infos.append(self.expr_info(value, scope, owner))
        return join(*infos)

    def _param_info(self, fn: FunctionInfo, param: str, depth: int) -> KerasInfo:
        """A function parameter: what the file's own calls of the function pass
        for it (`train_step(model, ...)` with a module-level `model`)."""
        fallback = self._evidence(cst.Name(param))
        if fn.cls is not None or depth > 4:
            return fallback
        infos = self._passed(self.calls_by_name.get(fn.name, []), fn, param, depth)
        if infos is None:
            return fallback
        info = join(*infos)
        return info if info.is_keras else fallback

    def _passed(self, calls, fn: FunctionInfo, param: str, depth: int = 0):
        """Infos of the arguments bound to `param` at each call; None when a
        call does not show it (or there is no call)."""
        infos = []
        for call, scope in calls:
            arg = bound_argument(call, fn, param)
            if arg is None:
                return None
            infos.append(self.expr_info(arg.value, scope, scope.cls if scope else None, depth + 1))
        return infos or None

    def _argument_info(self, cls: ClassInfo, method: FunctionInfo, param: str, attr: str) -> KerasInfo:
        """`self.model = model` in __init__: what the file passes as `model`
        where it instantiates the class. Unknown (no instantiation, or the
        argument is not passed) falls back to the usage evidence."""
        fallback = self._evidence(cst.Attribute(cst.Name("self"), cst.Name(attr)))
        if method.name != "__init__":
            return fallback
        infos = self._passed(self.calls_by_name.get(cls.name, []), method, param)
        if infos is None:
            return fallback
        info = join(*infos)
        return info if info.is_keras else fallback

    # -- expressions ---------------------------------------------------------
    def expr_info(self, expr: cst.BaseExpression, scope: Optional[FunctionInfo],
                  cls: Optional[ClassInfo], _depth: int = 0) -> KerasInfo:
        """What a value expression holds (a constructor call, a name, self.x)."""
        if _depth > 8:
            return NONE
        key = ("expr", id(expr), id(scope))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = NONE
        result = self._expr_info(expr, scope, cls, _depth)
        self._memo[key] = result
        return result

    def frozen(self, expr: cst.BaseExpression) -> bool:
        text = dotted(expr)
        return text is not None and self.trainable_set.get(text) == {"False"}

    def _expr_info(self, expr, scope, cls, depth) -> KerasInfo:
        if isinstance(expr, (cst.Name, cst.Attribute)) and self.frozen(expr):
            return KerasInfo(Contents.CLEAN, "frozen (trainable = False)")
        if isinstance(expr, cst.Call):
            return self.call_info(expr, scope, cls, depth)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            q = self.qualify(expr)
            if q is not None and self.api.is_mode_sensitive_layer(q):
                # the class itself (`Norm = layers.BatchNormalization`): what
                # calling it builds
                return KerasInfo(Contents.SENSITIVE, q.rsplit(".", 1)[-1])
        if isinstance(expr, cst.Name):
            return self.name_info(expr.value, scope, cls, depth)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) \
                and expr.value.value == "self":
            info = self.self_attr_info(cls, expr.attr.value)
            if info is not None and info.is_keras:
                return info
            return self._evidence(expr)
        if isinstance(expr, (cst.List, cst.Tuple)):
            return join(*(self.expr_info(el.value, scope, cls, depth + 1) for el in expr.elements))
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
            return self.expr_info(expr.elt, scope, cls, depth + 1)
        return NONE

    def _evidence(self, expr: cst.BaseExpression) -> KerasInfo:
        text = dotted(expr)
        if text and text in self.evidence:
            return KerasInfo(Contents.OPAQUE, "defined outside this file")
        return NONE

    def name_info(self, name: str, scope: Optional[FunctionInfo], cls: Optional[ClassInfo],
                  depth: int = 0) -> KerasInfo:
        if name == "self" and cls is not None:
            if "call" in cls.methods or any("call" in b.methods for b in self.local_bases(cls)):
                return self.class_contents(cls)
            kind = self.class_kind(cls)
            return KerasInfo(Contents.OPAQUE, "a model built elsewhere") if kind else NONE
        fn = scope
        while fn is not None:
            if name in fn.assigns:
                infos = [self.expr_info(v, fn, cls, depth + 1) for v in fn.assigns[name]]
                infos += [self._added(name, fn, cls, depth)]
                info = join(*infos)
                return info if info.is_keras else self._evidence(cst.Name(name))
            if name in fn.params:
                return self._param_info(fn, name, depth)
            if name in fn.unknown_bindings:
                return self._evidence(cst.Name(name))
            fn = self._enclosing_function(fn)
        if name in self.module_assigns:
            infos = [self.expr_info(v, None, None, depth + 1) for v in self.module_assigns[name]]
            infos += [self._added(name, None, None, depth)]
            info = join(*infos)
            return info if info.is_keras else self._evidence(cst.Name(name))
        bound = name in self.module_unknown or name in self.names.aliases \
            or bool(self.names.star_modules)
        # A name the file never binds (a scratch file, a name from another
        # notebook) is no evidence of a model at all.
        return self._evidence(cst.Name(name)) if bound else NONE

    def _added(self, name: str, scope, cls, depth) -> KerasInfo:
        return join(*(self.expr_info(v, scope, cls, depth + 1)
                      for v in self.added_layers.get(name, [])))

    def _enclosing_function(self, fn: FunctionInfo) -> Optional[FunctionInfo]:
        return fn.parent

    def call_info(self, call: cst.Call, scope: Optional[FunctionInfo], cls: Optional[ClassInfo],
                  depth: int = 0) -> KerasInfo:
        """What a call *returns*, when it constructs or loads a Keras object."""
        func = call.func
        q = self.qualify(func)
        api = self.api
        if q is not None:
            short = q.rsplit(".", 1)[-1]
            if api.is_mode_sensitive_layer(q):
                return KerasInfo(Contents.SENSITIVE, short)
            if q in api.sequential_constructors:
                return join(CLEAN, *(self.expr_info(a.value, scope, cls, depth + 1) for a in call.args))
            if q in api.functional_constructors:
                return join(CLEAN, self.functional_contents(call, scope, cls))
            if api.is_application(q):
                if api.application_is_plain(q):
                    return CLEAN
                return KerasInfo(Contents.SENSITIVE, f"{short} (pretrained, has BatchNormalization/Dropout)")
            if q in api.opaque_factories:
                return KerasInfo(Contents.OPAQUE, "a model loaded at run time")
            if q.startswith("keras.layers."):
                return join(CLEAN, *(self.expr_info(a.value, scope, cls, depth + 1) for a in call.args))
            ext = self.external(q)
            return ext if ext is not None else NONE
        if isinstance(func, cst.Name):
            if func.value in self.classes:
                return self.class_contents(self.classes[func.value])
            fn = self.functions.get(func.value)
            if fn is not None:
                return join(*(self.expr_info(r, fn, fn.cls, depth + 1) for r in fn.returns)) \
                    if fn.returns else NONE
            bound = self._bound_values(func.value, scope)
            if bound:  # Norm = pick_norm(kind); Norm()
                info = join(*(self.expr_info(v, scope, cls, depth + 1) for v in bound))
                if info.contents == Contents.SENSITIVE:
                    return info
            if self.names.star_modules:  # from models import *
                starred = self.star_qualify(func.value)
                ext = self.external(starred) if starred else None
                if ext is not None:
                    return ext
        return NONE

    def callee_info(self, func: cst.BaseExpression, scope: Optional[FunctionInfo],
                    cls: Optional[ClassInfo]) -> KerasInfo:
        """What is being called at `func(...)`: a Keras model or layer, or not."""
        if isinstance(func, cst.Call):
            # `Dense(3)(x)` or `make_model()(x)`: the inner call builds it.
            return self.call_info(func, scope, cls)
        return self.expr_info(func, scope, cls)

    def _from_constructor_argument(self, cls: Optional[ClassInfo], attr: str) -> bool:
        if cls is None or self.class_kind(cls) is None:
            return False
        for owner in [cls] + self.local_bases(cls):
            for value in owner.self_assigns.get(attr, []):
                scope = self.value_scope.get(id(value))
                if isinstance(value, cst.Name) and scope is not None and value.value in scope.params:
                    default = scope.params[value.value]
                    if default is not None and not is_none(default):
                        return False  # `activation=lambda x: x`: a callable, not a model
                    passed = self._passed(self.calls_by_name.get(owner.name, []), scope, value.value)
                    if passed is not None and all(not p.is_keras for p in passed) and \
                            self._passes_plain_callables(owner.name, scope, value.value):
                        return False
                    return True
        return False

    def _passes_plain_callables(self, class_name: str, init: FunctionInfo, param: str) -> bool:
        """Every instantiation passes a TF op, a lambda or a builtin here."""
        for call, _ in self.calls_by_name.get(class_name, []):
            arg = bound_argument(call, init, param)
            if arg is None:
                continue  # the default is used
            value = arg.value
            q = self.qualify(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
            if isinstance(value, cst.Lambda) or (q is not None and not q.startswith("keras.")) \
                    or (isinstance(value, cst.Name) and value.value in BUILTINS):
                continue
            return False
        return True

    def _bound_values(self, name: str, scope: Optional[FunctionInfo]) -> List[cst.BaseExpression]:
        fn = scope
        while fn is not None:
            if name in fn.assigns:
                return fn.assigns[name]
            if name in fn.params or name in fn.unknown_bindings:
                return []
            fn = self._enclosing_function(fn)
        return self.module_assigns.get(name, [])

    def functional_contents(self, call: cst.Call, scope: Optional[FunctionInfo],
                            cls: Optional[ClassInfo]) -> KerasInfo:
        """`Model(inputs, outputs)` holds the layers on the data path to its
        outputs, not every layer built in the same scope (a discriminator
        built next to the generator is another model)."""
        outputs = None
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "outputs":
                outputs = arg.value
        plain = [a for a in call.args if a.keyword is None and not a.star]
        if outputs is None and len(plain) >= 2:
            outputs = plain[1].value
        if outputs is None or any(a.star for a in call.args):
            return self.scope_contents(scope)
        parts = [CLEAN]
        todo, seen_names = [outputs], set()
        while todo:
            expr = todo.pop()
            for node in _calls_and_names(expr):
                if isinstance(node, cst.Call):
                    parts.append(self._applied(node, scope, cls))
                elif node.value not in seen_names:
                    seen_names.add(node.value)
                    todo += self._bound_values(node.value, scope)
                    todo += self.added_layers.get(node.value, [])
            if len(seen_names) > 500:
                return self.scope_contents(scope)
        return join(*parts)

    # -- scope contents ------------------------------------------------------
    def scope_contents(self, scope: Optional[FunctionInfo]) -> KerasInfo:
        """Join of what every call in a scope builds or applies (functional models)."""
        key = ("scope", id(scope))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = CLEAN
        calls = scope.calls if scope is not None else self.module_calls
        cls = scope.cls if scope is not None else None
        parts = [CLEAN]
        for call in calls:
            parts.append(self._applied(call, scope, cls))
            if parts[-1].contents == Contents.SENSITIVE:
                break
        result = join(*parts)
        self._memo[key] = result
        return result

    def _applied(self, call: cst.Call, scope, cls) -> KerasInfo:
        func = call.func
        q = self.qualify(func)
        if q is not None:
            api = self.api
            if q in api.functional_constructors or q in api.sequential_constructors:
                return CLEAN
            if api.tf1_builder(q) is not None:
                return KerasInfo(Contents.SENSITIVE, q.rsplit(".", 1)[-1])
            info = self.call_info(call, scope, cls)
            if info.is_keras:
                return info
            if q.split(".")[0] in api.clean_libraries:
                return CLEAN
            ext = self.external(q, builds=True)
            if ext is not None:
                return ext if ext.is_keras else CLEAN
            if not api.may_build_layers(q):
                return CLEAN
            return KerasInfo(Contents.OPAQUE, f"{q.lstrip('.')}() from another module")
        if isinstance(func, cst.Name):
            name = func.value
            if name in self.classes:
                return self.class_contents(self.classes[name])
            if name in self.functions:
                return self.scope_contents(self.functions[name])
            if name in BUILTINS:
                return CLEAN
            info = self.name_info(name, scope, cls)
            if info.is_keras:
                return info
            if self.names.star_modules:
                return self.call_info(call, scope, cls) if self.star_qualify(name) else CLEAN
            return CLEAN
        if isinstance(func, cst.Call):
            return self.call_info(func, scope, cls)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                and func.value.value == "self":
            info = self.self_attr_info(cls, func.attr.value)
            if info is not None and info.is_keras:
                return info
            if cls is not None and func.attr.value in cls.methods:
                return self.scope_contents(cls.methods[func.attr.value])
            if self._from_constructor_argument(cls, func.attr.value):
                # `self.model = model` applied in a Keras class: a layer or
                # model whose contents the file does not show
                return KerasInfo(Contents.OPAQUE, f"`self.{func.attr.value}`, passed to the constructor")
        return CLEAN


def _calls_and_names(expr: cst.BaseExpression) -> List[cst.CSTNode]:
    """The calls and names an expression is made of (lambdas and nested
    defs are not entered)."""
    found: List[cst.CSTNode] = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            found.append(node)

        def visit_Name(self, node: cst.Name) -> None:
            found.append(node)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            # `x.shape` uses x; `layers.Dense` is a module path, not data
            root = node
            while isinstance(root, cst.Attribute):
                root = root.value
            if isinstance(root, cst.Name):
                found.append(root)
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    expr.visit(_V())
    return found
