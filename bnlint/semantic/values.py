"""What an expression is, as far as the Keras rules care.

The answer is a `KerasInfo`: NONE (not a Keras model or layer as far as
the program shows), CLEAN (built here from layers none of which depend on
the mode), OPAQUE (a Keras object whose contents are not visible) or
SENSITIVE (holds BatchNormalization / Dropout / ...). Each api.yaml table
has one small inference in `call_info` (a mode-sensitive layer class, a
Sequential, a functional Model, an application, a loader); names are
followed through the bindings in force (scopes.py), calls of the user's
own functions and classes through the call graph, imports of the user's
sibling modules through the project model (project.py).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

from ..api import Api
from .callgraph import CallGraph, bound_argument
from .resolve import Resolver, dotted, head
from .scopes import BindingKind, Scope, ScopeKind, Scopes

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

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
# An instance of a class the program defines and that is not a Keras class
# (a tf.Module, a plain object with __call__): known not to be a model, so
# usage evidence (`.trainable_variables`) does not make it one.
PLAIN = KerasInfo(Contents.NONE, "an object of a class that is not a Keras model")


def is_const(node: Optional[ast.AST], value) -> bool:
    """`True` / `False` / `None` as written."""
    return isinstance(node, ast.Constant) and node.value is value


def join(*infos: KerasInfo) -> KerasInfo:
    """The most the value may hold; PLAIN (known not Keras) over NONE."""
    best = NONE
    for info in infos:
        if info.contents > best.contents or (info == PLAIN and best.contents == Contents.NONE):
            best = info
    return best


def calls_and_names(expr: ast.AST) -> List[ast.AST]:
    """The calls and head names an expression is made of (lambdas not
    entered; `layers.Dense` counts its head `layers`)."""
    found: List[ast.AST] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            found.append(node)
        elif isinstance(node, ast.Name):
            found.append(node)
            continue
        elif isinstance(node, ast.Attribute):
            root = head(node)
            if root is not None:
                found.append(root)
                continue
        stack.extend(ast.iter_child_nodes(node))
    return found


class Values:
    """Keras inference over one module's semantic model."""

    def __init__(self, scopes: Scopes, resolver: Resolver, api: Api,
                 project: Optional["Project"] = None, path: Optional[str] = None) -> None:
        self.scopes = scopes
        self.names = resolver
        self.api = api
        self.project = project
        self.path = path
        self.graph = CallGraph(scopes, resolver)
        self._memo: Dict[object, KerasInfo] = {}
        self._dead: Dict[object, bool] = {}
        self.evidence: Set[str] = set()
        for attr in scopes.watched:
            text = dotted(attr.value)
            if text:
                self.evidence.add(text)
        # model.add(layer); outputs.append(tensor): what the name comes to hold
        self.added_layers: Dict[str, List[Tuple[ast.AST, Scope]]] = {}
        self._add_call: Dict[int, ast.Call] = {}  # id(added value) -> the add/append call
        for site in scopes.sites:
            func = site.call.func
            if isinstance(func, ast.Attribute) and func.attr in ("add", "append", "extend", "insert"):
                args = site.call.args + [k.value for k in site.call.keywords]
                owner = dotted(func.value)
                if owner and args:
                    self.added_layers.setdefault(owner, []).append((args[-1], site.scope))
                    self._add_call[id(args[-1])] = site.call
        # `base.trainable = False` (and never True): its BN runs in
        # inference mode whatever `training` says.
        self.trainable_set: Dict[str, Set[bool]] = {}
        for target, value, _ in scopes.assigns:
            if isinstance(target, ast.Attribute) and target.attr == "trainable" \
                    and isinstance(value, ast.Constant) and isinstance(value.value, bool):
                owner = dotted(target.value)
                if owner:
                    self.trainable_set.setdefault(owner, set()).add(value.value)

    # -- names -----------------------------------------------------------------
    def qualify(self, node: ast.AST) -> Optional[str]:
        return self.names.qualify(node)

    def definition(self, node: ast.AST, kind: Optional[ScopeKind] = None) -> Optional[Scope]:
        """The class or function of this module a Name refers to (by `def` /
        `class` in force where it is read)."""
        if not isinstance(node, ast.Name):
            return None
        target, _ = self.names.local_target(node)
        if target is not None and (kind is None or target.kind is kind):
            return target
        return None

    def module_definition(self, name: str) -> Optional[Scope]:
        """The last module-level def/class of `name` (what an importer sees)."""
        for b in reversed(self.scopes.module.bindings.get(name, [])):
            if b.kind is BindingKind.DEFINITION:
                return b.defines
            return None
        return None

    # -- the user's other modules --------------------------------------------------
    def external_target(self, qualified: Optional[str]) -> Optional[Tuple["Values", str]]:
        """(model of the project module, name in it) for `pkg.mod.Name`, or
        None when pkg/mod.py is not a file of the user's project."""
        if not qualified or self.project is None or qualified.split(".")[0] in self.api.clean_libraries:
            return None
        module, _, attr = qualified.rpartition(".")
        if not module:
            return None
        other = self.project.module(module, self.path)
        return (other, attr) if other is not None else None

    def external(self, qualified: str, builds: bool = False) -> Optional[KerasInfo]:
        """What `pkg.mod.Name` holds when pkg/mod.py is a file of the user's
        project; None when it is not. builds=True: for a function, every
        layer it builds, not only what it returns."""
        target = self.external_target(qualified)
        if target is None:
            return None
        other, attr = target
        d = other.module_definition(attr)
        if d is not None and d.kind is ScopeKind.CLASS:
            return other.class_contents(d)
        if d is not None:
            if builds:
                return other.scope_contents(d)
            return join(*(other.expr_info(r, d, d.cls) for r in d.returns))
        if other.scopes.module.assigned(attr):
            return join(*(other.expr_info(v, other.scopes.module, None)
                          for v in other.scopes.module.assigned(attr)))
        return None

    def star_qualify(self, name: str) -> Optional[str]:
        """A bare name that may come from `from mymodule import *`."""
        for module in self.names.star_modules:
            target = self.external_target(f"{module}.{name}")
            if target is not None and target[0].module_definition(name) is not None:
                return f"{module}.{name}"
        return None

    # -- classes -----------------------------------------------------------------
    def local_bases(self, cls: Scope) -> List[Scope]:
        """Bases of a class that are classes of this module."""
        out = []
        for b in cls.bases:
            d = self.definition(b, ScopeKind.CLASS)
            if d is not None and d is not cls:
                out.append(d)
        return out

    def _keras_base_nodes(self, cls: Scope) -> List[tuple]:
        """(qualified name, raw spelling) of each Keras base, through the
        module's own classes and classes of the user's sibling modules
        (`from base import Base`), memoised."""
        key = ("bases", id(cls))
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]
        found: List[tuple] = []
        todo, seen = [cls], set()
        while todo:
            c = todo.pop(0)
            if id(c) in seen:
                continue
            seen.add(id(c))
            for base in c.bases:
                q = self.qualify(base)
                if q is not None and (self.api.is_model_base(q) or self.api.is_layer_base(q)):
                    found.append((q, self.names.raw(base)))
                    continue
                d = self.definition(base, ScopeKind.CLASS)
                if d is not None:
                    todo.append(d)
                    continue
                target = self.external_target(q) if q is not None else None
                if target is not None:
                    other = target[0].module_definition(target[1])
                    if other is not None and other.kind is ScopeKind.CLASS:
                        found += target[0]._keras_base_nodes(other)
        self._memo[key] = found  # type: ignore[assignment]
        return found

    def keras_bases(self, cls: Scope) -> List[str]:
        return [q for q, _ in self._keras_base_nodes(cls)]

    def keras_base_raw(self, cls: Scope) -> Optional[str]:
        """How the first Keras base was spelled by its import (before folding)."""
        found = self._keras_base_nodes(cls)
        return found[0][1] if found else None

    def plain_class(self, cls: Scope, _seen: Optional[Set[int]] = None) -> bool:
        """A class known not to be a Keras class: every base is `object`, a
        non-Keras TensorFlow class (tf.Module) or a plain class of the
        program. An unknown base (a pip package) is not known plain."""
        seen = _seen if _seen is not None else set()
        if id(cls) in seen:
            return True
        seen.add(id(cls))
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id == "object" and not self.names.bindings_of(base):
                continue
            d = self.definition(base, ScopeKind.CLASS)
            if d is not None:
                if self.plain_class(d, seen):
                    continue
                return False
            q = self.qualify(base)
            if q is not None and q.split(".")[0] == "tensorflow":
                continue  # canonical Keras names start with "keras."
            target = self.external_target(q) if q is not None else None
            other = target[0].module_definition(target[1]) if target is not None else None
            if other is not None and other.kind is ScopeKind.CLASS and target[0].class_kind(other) is None \
                    and target[0].plain_class(other):
                continue
            return False
        return True

    def class_kind(self, cls: Scope) -> Optional[str]:
        """"model", "layer" or None (not a Keras class as far as the module shows)."""
        bases = self.keras_bases(cls)
        if any(self.api.is_model_base(q) for q in bases):
            return "model"
        return "layer" if bases else None

    def keras_base(self, cls: Scope) -> Optional[str]:
        bases = self.keras_bases(cls)
        return bases[0] if bases else None

    def method(self, cls: Scope, name: str) -> Optional[Scope]:
        """`name` defined in the class or one of its local bases."""
        for c in [cls] + self.local_bases(cls):
            if name in c.methods:
                return c.methods[name]
        return None

    def class_contents(self, cls: Scope) -> KerasInfo:
        key = ("class", id(cls))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = CLEAN  # cycle guard
        if self.class_kind(cls) is None:
            result = PLAIN if self.plain_class(cls) else NONE
        else:
            parts = [CLEAN]
            base = self.keras_base(cls)
            if base is not None and self.api.is_mode_sensitive_layer(base):
                parts.append(KerasInfo(Contents.SENSITIVE, base.rsplit(".", 1)[-1]))
            for parent in self.local_bases(cls):
                parts.append(self.class_contents(parent))
            for base in cls.bases:
                q = self.qualify(base)
                ext = self.external(q) if q is not None and self.definition(base) is None else None
                if ext is not None:
                    parts.append(ext)
            for method in cls.methods.values():
                parts.append(self.scope_contents(method))
            result = join(*parts)
        self._memo[key] = result
        return result

    def self_attr_info(self, cls: Optional[Scope], attr: str) -> Optional[KerasInfo]:
        """What `self.<attr>` holds, from assignments in the class and its local bases."""
        if cls is None:
            return None
        values = []
        todo, seen = [cls], set()
        while todo:
            c = todo.pop()
            if id(c) in seen:
                continue
            seen.add(id(c))
            values += [(v, fn, c) for v, fn in c.self_assigns.get(attr, [])]
            todo += self.local_bases(c)
        if not values:
            return None
        infos = []
        for value, fn, owner in values:
            if isinstance(value, ast.Name) and fn.is_function and value.id in fn.params \
                    and not fn.assigned(value.id):
                infos.append(self._argument_info(owner, fn, value.id, attr))
            else:
                infos.append(self.expr_info(value, fn, owner))
        return join(*infos)

    def _param_info(self, fn: Scope, param: str, depth: int) -> KerasInfo:
        """A function parameter: what the module's own calls of the function
        pass for it (`train_step(model, ...)` with a module-level `model`)."""
        fallback = self._evidence_text(param)
        if fn.cls is not None or depth > 4 or fn.kind is not ScopeKind.FUNCTION:
            return fallback
        infos = self._passed(self.graph.callers(fn), fn, param, depth)
        if infos is None:
            return fallback
        info = join(*infos)
        return info if info.is_keras else fallback

    def _base_init_calls(self, cls: Scope) -> List[Tuple[ast.Call, Scope]]:
        """`super().__init__(g, d)` / `super(Sub, self).__init__(g, d)` in a
        subclass of `cls` of this module (`Base.__init__(self, g, d)` is
        given without its `self`): (call, scope) as graph.callers gives."""
        out: List[Tuple[ast.Call, Scope]] = []
        for sub in self.scopes.classes:
            if sub is cls or not any(b is cls for b in self.local_bases(sub)):
                continue
            for method in sub.methods.values():
                for call in method.calls:
                    func = call.func
                    if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
                        continue
                    owner = func.value
                    if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) \
                            and owner.func.id == "super" and not self.names.bindings_of(owner.func):
                        out.append((call, method))
                    elif isinstance(owner, ast.Name) and self.definition(owner) is cls and call.args \
                            and isinstance(call.args[0], ast.Name) and call.args[0].id == "self":
                        unbound = ast.Call(func=func, args=call.args[1:], keywords=call.keywords)
                        out.append((unbound, method))
        return out

    def _passed(self, calls, fn: Scope, param: str, depth: int = 0):
        """Infos of the arguments bound to `param` at each call; None when a
        call does not show it (or there is no call)."""
        infos = []
        for call, scope in calls:
            value = bound_argument(call, fn, param)
            if value is None:
                return None
            infos.append(self.expr_info(value, scope, scope.cls if scope else None, depth + 1))
        return infos or None

    def _argument_info(self, cls: Scope, method: Scope, param: str, attr: str) -> KerasInfo:
        """`self.model = model` in __init__: what the module passes as `model`
        where it instantiates the class."""
        fallback = self._evidence_text(f"self.{attr}")
        if method.name != "__init__":
            return fallback
        infos = self._passed(self.graph.callers(cls) + self._base_init_calls(cls), method, param)
        if infos is None:
            return fallback
        info = join(*infos)
        return info if info.is_keras else fallback

    # -- expressions ---------------------------------------------------------------
    def expr_info(self, expr: ast.AST, scope: Optional[Scope], cls: Optional[Scope],
                  _depth: int = 0) -> KerasInfo:
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

    def frozen(self, expr: ast.AST) -> bool:
        text = dotted(expr)
        return text is not None and self.trainable_set.get(text) == {False}

    def _expr_info(self, expr, scope, cls, depth) -> KerasInfo:
        if isinstance(expr, (ast.Name, ast.Attribute)) and self.frozen(expr):
            return KerasInfo(Contents.CLEAN, "frozen (trainable = False)")
        if isinstance(expr, ast.Call):
            return self.call_info(expr, scope, cls, depth)
        if isinstance(expr, (ast.Name, ast.Attribute)):
            q = self.qualify(expr)
            if q is not None and self.api.is_mode_sensitive_layer(q):
                # the class itself (`Norm = layers.BatchNormalization`)
                return KerasInfo(Contents.SENSITIVE, q.rsplit(".", 1)[-1])
        if isinstance(expr, ast.Name):
            return self.name_info(expr, cls, depth)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            info = self.self_attr_info(cls, expr.attr)
            if info is not None and (info.is_keras or info == PLAIN):
                return info
            return self._evidence(expr)
        if isinstance(expr, (ast.List, ast.Tuple)):
            return join(*(self.expr_info(el, scope, cls, depth + 1) for el in expr.elts))
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            inner = self.scopes.scope_of_node.get(id(expr), scope)
            return self.expr_info(expr.elt, inner, cls, depth + 1)
        return NONE

    def _evidence_text(self, text: str) -> KerasInfo:
        if text in self.evidence:
            return KerasInfo(Contents.OPAQUE, "defined outside this file")
        return NONE

    def _evidence(self, expr: ast.AST) -> KerasInfo:
        text = dotted(expr)
        return self._evidence_text(text) if text else NONE

    def name_info(self, name: ast.Name, cls: Optional[Scope], depth: int = 0) -> KerasInfo:
        """What a Name holds where it is read: the join over the bindings
        that may be in force there."""
        if name.id == "self" and cls is not None:
            if self.method(cls, "call") is not None:
                return self.class_contents(cls)
            kind = self.class_kind(cls)
            return KerasInfo(Contents.OPAQUE, "a model built elsewhere") if kind else NONE
        found = self.names.bindings_of(name)
        if not found:
            # A name the module never binds is no evidence of a model at
            # all, unless a star import may have brought it.
            return self._evidence(name) if self.names.star_modules else NONE
        infos: List[KerasInfo] = []
        for b in found:
            if b.kind is BindingKind.ASSIGNMENT:
                infos.append(self.expr_info(b.value, b.scope, b.scope.cls, depth + 1))
            elif b.kind is BindingKind.ARGUMENT:
                infos.append(self._param_info(b.scope, name.id, depth))
            elif b.kind is BindingKind.OTHER and id(b.node) in self._unpacked():
                value, index = self._unpacked()[id(b.node)]
                infos.append(self._element_info(value, index, b.scope, depth))
        infos.append(self._added(name.id, depth, {id(b.scope) for b in found}))
        info = join(*infos)
        if not info.is_keras and PLAIN in infos:
            return PLAIN
        return info if info.is_keras else self._evidence(name)

    def _unpacked(self) -> Dict[int, Tuple[ast.AST, int]]:
        """id(name) -> (value, index) for each name of a plain tuple target
        (`model, opt = setup()`; no starred element)."""
        table = self.__dict__.get("_unpacked_table")
        if table is None:
            table = {}
            for target, value, _ in self.scopes.assigns:
                if isinstance(target, (ast.Tuple, ast.List)) and \
                        not any(isinstance(el, ast.Starred) for el in target.elts):
                    for i, el in enumerate(target.elts):
                        if isinstance(el, ast.Name):
                            table[id(el)] = (value, i)
            self.__dict__["_unpacked_table"] = table
        return table

    def _element_info(self, value: ast.AST, index: int, scope: Optional[Scope], depth: int) -> KerasInfo:
        """Element `index` of what `value` gives: a tuple written out, or a
        function of this module every `return` of which is a tuple."""
        cls = scope.cls if scope is not None else None
        if isinstance(value, (ast.Tuple, ast.List)):
            return self.expr_info(value.elts[index], scope, cls, depth + 1) \
                if index < len(value.elts) else NONE
        target = self.definition(value.func, ScopeKind.FUNCTION) if isinstance(value, ast.Call) else None
        if target is None or not target.returns or not all(
                isinstance(r, ast.Tuple) and index < len(r.elts) for r in target.returns):
            return NONE
        return join(*(self.expr_info(r.elts[index], target, target.cls, depth + 1) for r in target.returns))

    def _added(self, name: str, depth: int, bound_in: Optional[Set[int]] = None) -> KerasInfo:
        return join(*(self.expr_info(v, s, s.cls, depth + 1) for v, s in self.adds_to(name, bound_in)))

    def adds_to(self, name: str, bound_in: Optional[Set[int]] = None) -> List[Tuple[ast.AST, Scope]]:
        """(value, scope) of the `name.add(value)` / `name.append(value)`
        calls that reach the object `name` holds: not those written in
        another function with its own local `name` (two builders that each
        make a `block`), nor those that never run (never_runs).
        `bound_in`: ids of the scopes whose bindings of `name` are in force."""
        out = []
        for v, s in self.added_layers.get(name, []):
            if bound_in is not None and id(s) not in bound_in and name in s.bindings \
                    and s.kind is not ScopeKind.MODULE:
                continue
            if self.never_runs(self._add_call.get(id(v))):
                continue
            out.append((v, s))
        return out

    def never_runs(self, call: Optional[ast.Call]) -> bool:
        """Is `call` written under `if flag:` where `flag` is a parameter of
        its function, never rebound there, whose every call in this module
        (at least one) leaves it at a False / None default or passes
        False / None as written (`downsample(..., dropout=False)` whose
        callers never ask for dropout)? A function that other modules call
        is not seen from here."""
        site = self.scopes.site_of.get(id(call)) if call is not None else None
        fn = site.scope.function if site is not None else None
        if fn is None or not site.guards:
            return False
        key = ("dead", id(call))
        if key in self._dead:
            return self._dead[key]
        result = False
        first, last = fn.node.lineno, getattr(fn.node, "end_lineno", fn.node.lineno)
        for test, branch in site.guards:
            if branch and isinstance(test, ast.Name) and first <= test.lineno <= last \
                    and self._param_always_off(fn, test.id):
                result = True
                break
        self._dead[key] = result
        return result

    def _param_always_off(self, fn: Scope, param: str) -> bool:
        bindings = fn.bindings.get(param, ())
        if param not in fn.params or not bindings or any(b.kind is not BindingKind.ARGUMENT for b in bindings):
            return False
        calls = self.graph.callers(fn)
        if not calls:
            return False
        for call, _ in calls:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return False
            value = bound_argument(call, fn, param)
            if value is None:
                value = fn.params.get(param)
            if not (is_const(value, False) or is_const(value, None)):
                return False
        return True

    def call_info(self, call: ast.Call, scope: Optional[Scope], cls: Optional[Scope],
                  depth: int = 0) -> KerasInfo:
        """What a call *returns*, when it constructs or loads a Keras object."""
        func = call.func
        q = self.qualify(func)
        api = self.api
        if q is not None:
            short = q.rsplit(".", 1)[-1]
            if q.split(".")[0] in api.non_keras_model_libraries:
                return PLAIN  # a TensorLayer model: its mode is not a `training` argument
            if api.is_mode_sensitive_layer(q):
                return KerasInfo(Contents.SENSITIVE, short)
            if q in api.sequential_constructors:
                return join(CLEAN, *(self.expr_info(a, scope, cls, depth + 1) for a in _arg_values(call)))
            if q in api.functional_constructors:
                return join(CLEAN, self.functional_contents(call, scope, cls))
            if api.is_application(q):
                if api.application_is_plain(q):
                    return CLEAN
                return KerasInfo(Contents.SENSITIVE, f"{short} (pretrained, has BatchNormalization/Dropout)")
            if q in api.opaque_factories:
                return KerasInfo(Contents.OPAQUE, "a model loaded at run time")
            if q.startswith("keras.layers."):
                return join(CLEAN, *(self.expr_info(a, scope, cls, depth + 1) for a in _arg_values(call)))
            ext = self.external(q)
            return ext if ext is not None else NONE
        if isinstance(func, ast.Name):
            target = self.definition(func)
            if target is not None and target.kind is ScopeKind.CLASS:
                return self.class_contents(target)
            if target is not None:
                return join(*(self.expr_info(r, target, target.cls, depth + 1) for r in target.returns)) \
                    if target.returns else NONE
            bound = [b.value for b in self.names.bindings_of(func) if b.kind is BindingKind.ASSIGNMENT]
            if bound:  # Norm = pick_norm(kind); Norm()
                info = join(*(self.expr_info(v, scope, cls, depth + 1) for v in bound))
                if info.contents == Contents.SENSITIVE:
                    return info
            if self.names.star_modules and not self.names.bindings_of(func):
                starred = self.star_qualify(func.id)
                ext = self.external(starred) if starred else None
                if ext is not None:
                    return ext
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "self" and cls is not None:
            method = self.method(cls, func.attr)
            if method is not None and func.attr != "call":  # self.build_encoder()
                return join(*(self.expr_info(r, method, method.cls, depth + 1) for r in method.returns)) \
                    if method.returns else NONE
        return NONE

    def returned_functions(self, call: ast.Call) -> List[Scope]:
        """`res_block(16)` where `res_block` returns a function it defines
        (a block factory): the functions the call returns."""
        target = self.definition(call.func, ScopeKind.FUNCTION)
        out = []
        for r in target.returns if target is not None else ():
            d = self.definition(r, ScopeKind.FUNCTION)
            if d is not None and d is not target:
                out.append(d)
        return out

    def callee_info(self, func: ast.AST, scope: Optional[Scope], cls: Optional[Scope]) -> KerasInfo:
        """What is being called at `func(...)`: a Keras model or layer, or not."""
        if isinstance(func, ast.Call):
            return self.call_info(func, scope, cls)  # `Dense(3)(x)`, `make_model()(x)`
        return self.expr_info(func, scope, cls)

    def _from_constructor_argument(self, cls: Optional[Scope], attr: str) -> bool:
        if cls is None or self.class_kind(cls) is None:
            return False
        for owner in [cls] + self.local_bases(cls):
            for value, fn in owner.self_assigns.get(attr, []):
                if isinstance(value, ast.Name) and fn.is_function and value.id in fn.params:
                    default = fn.params[value.id]
                    if default is not None and not is_const(default, None):
                        return False  # `activation=lambda x: x`: a callable, not a model
                    passed = self._passed(self.graph.callers(owner), fn, value.id)
                    if passed is not None and all(not p.is_keras for p in passed) and \
                            self._passes_plain_callables(owner, fn, value.id):
                        return False
                    return True
        return False

    def _passes_plain_callables(self, cls: Scope, init: Scope, param: str) -> bool:
        """Every instantiation passes a TF op, a lambda or a builtin here."""
        for call, _ in self.graph.callers(cls):
            value = bound_argument(call, init, param)
            if value is None:
                continue  # the default is used
            q = self.qualify(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
            if isinstance(value, ast.Lambda) or (q is not None and not q.startswith("keras.")) \
                    or (isinstance(value, ast.Name) and value.id in BUILTINS and not self.names.bindings_of(value)):
                continue
            return False
        return True

    def functional_contents(self, call: ast.Call, scope: Optional[Scope], cls: Optional[Scope]) -> KerasInfo:
        """`Model(inputs, outputs)` holds the layers on the data path to its
        outputs, not every layer built in the same scope."""
        outputs = None
        for kw in call.keywords:
            if kw.arg == "outputs":
                outputs = kw.value
        plain = [a for a in call.args if not isinstance(a, ast.Starred)]
        if outputs is None and len(plain) >= 2:
            outputs = plain[1]
        if outputs is None or any(isinstance(a, ast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            return self.scope_contents(scope)
        parts = [CLEAN]
        todo, seen = [(outputs, scope)], set()
        while todo:
            expr, where = todo.pop()
            fixed: Set[int] = set()  # the callee of `base(x, training=True)`: its mode is fixed
            for node in calls_and_names(expr):
                if id(node) in fixed:
                    continue
                if isinstance(node, ast.Call):
                    if _literal_training(node):
                        fixed.update(id(n) for n in calls_and_names(node.func))
                    else:
                        parts.append(self._applied(node, where, cls))
                    continue
                found = self.names.bindings_of(node)
                for b in found:
                    if id(b) in seen:
                        continue
                    seen.add(id(b))
                    if b.kind is BindingKind.ASSIGNMENT:
                        todo.append((b.value, b.scope))
                for v, s in self.adds_to(node.id, {id(b.scope) for b in found} if found else None):
                    if id(v) not in seen:
                        seen.add(id(v))
                        todo.append((v, s))
            if len(seen) > 500:
                return self.scope_contents(scope)
        return join(*parts)

    def symbolic(self, expr: ast.AST) -> bool:
        """Is `expr` a symbolic tensor: on its data path, a `keras.Input(...)`
        with only layer applications in between (api.yaml symbolic_inputs)?"""
        todo, seen = [expr], set()
        while todo and len(seen) < 200:
            node = todo.pop()
            if isinstance(node, ast.Call):
                q = self.qualify(node.func)
                if q is not None and q in self.api.symbolic_inputs:
                    return True
                if isinstance(node.func, ast.Call):  # Layer(...)(x): x's kind flows through
                    todo += [a for a in node.args if not isinstance(a, ast.Starred)][:1]
                continue
            if isinstance(node, ast.Name):
                for b in self.names.bindings_of(node):
                    if id(b) not in seen and b.kind is BindingKind.ASSIGNMENT:
                        seen.add(id(b))
                        todo.append(b.value)
        return False

    # -- scope contents ----------------------------------------------------------
    def scope_contents(self, scope: Optional[Scope]) -> KerasInfo:
        """Join of what every call in a scope builds or applies."""
        scope = scope if scope is not None else self.scopes.module
        key = ("scope", id(scope))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = CLEAN
        cls = scope.cls
        parts = [CLEAN]
        for call in scope.calls:
            if self.never_runs(call):
                continue
            parts.append(self._applied(call, scope, cls))
            if parts[-1].contents == Contents.SENSITIVE:
                break
        result = join(*parts)
        self._memo[key] = result
        return result

    def _applied(self, call: ast.Call, scope, cls) -> KerasInfo:
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
        if isinstance(func, ast.Name):
            target = self.definition(func)
            if target is not None and target.kind is ScopeKind.CLASS:
                return self.class_contents(target)
            if target is not None:
                return self.scope_contents(target)
            found = self.names.bindings_of(func)
            if not found and func.id in BUILTINS:
                return CLEAN
            info = self.name_info(func, cls)
            if info.is_keras:
                return info
            if self.names.star_modules and not found:
                return self.call_info(call, scope, cls) if self.star_qualify(func.id) else CLEAN
            return CLEAN
        if isinstance(func, ast.Call):
            info = self.call_info(func, scope, cls)
            if info.is_keras:
                return info
            closures = self.returned_functions(func)
            return join(CLEAN, *(self.scope_contents(c) for c in closures)) if closures else info
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            info = self.self_attr_info(cls, func.attr)
            if info is not None and info.is_keras:
                return info
            if cls is not None and func.attr in cls.methods:
                return self.scope_contents(cls.methods[func.attr])
            if self._from_constructor_argument(cls, func.attr):
                return KerasInfo(Contents.OPAQUE, f"`self.{func.attr}`, passed to the constructor")
        return CLEAN


def _literal_training(call: ast.Call) -> bool:
    """`base(x, training=True)` / `training=False` written as a literal: in a
    functional model that node keeps that mode when the model is called
    without `training` (shared/rules.md: an outer call's non-None value
    overrides it, None does not)."""
    return any(k.arg == "training" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool)
               for k in call.keywords)


def _arg_values(call: ast.Call) -> List[ast.AST]:
    """Argument expressions in source order (starred ones unwrapped)."""
    values = [a.value if isinstance(a, ast.Starred) else a for a in call.args] + [k.value for k in call.keywords]
    return sorted(values, key=lambda n: (n.lineno, n.col_offset))
