"""BN003: TF1 graph code builds batch norm, but the train op never runs
the UPDATE_OPS, so the moving statistics stay at their initial 0 and 1.

A train op counts as correct when any of the forms measured to work is
present: created under `control_dependencies(<update ops>)` (also through a
function called there, or with only `compute_gradients` inside), grouped
with the update ops, update ops fetched in a `run(...)`, or batch norm
built with `updates_collections=None`.

Fix: wrap the statement that creates the train op in `with
<tf>.control_dependencies(<tf>.get_collection(<tf>.GraphKeys.UPDATE_OPS)):`;
safe only when it sees the whole story (one train op, batch norm built
earlier in the same function, a statement alone on its line).
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from functools import lru_cache
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from ..semantic import SemanticModel
from ..semantic.callgraph import bound_argument
from ..semantic.resolve import dotted
from ..semantic.scopes import BindingKind, CallSite, Scope, ScopeKind, start
from ..semantic.values import is_const
from ..api import api_tables
from .base import Rule, kwarg, last, words
from .tables import family_tables

_UPDATES_NONE = re.compile(r"""updates_collections['"]?\s*[:=]\s*None""")
# `name.compat.v1.` in the source, for any name (tests/test_regex_linear.py
# checks module-level patterns).
_COMPAT_V1 = re.compile(r"\b(\w+)\s*\.\s*compat\s*\.\s*v1\s*\.")
_ARG_SCOPE = re.compile(rb"arg_scope")
# Bytes of a helper module that may wire the update ops into its train op
# (or delegate it): such a helper is never reported (precision first).
MAX_HELPER_DEPTH = 3  # calls followed inside another module's helper to its train op
MAX_CHAIN = 6  # helper parameters followed from a batch norm's training argument to a literal


class Variant(Enum):
    DEFAULT = "default"


def _train_op_words(api) -> bytes:
    """`.minimize(` and the other train op methods, as a regex source."""
    return b"\\.\\s*(?:" + words(api.train_op_methods) + b")\\s*\\("


def _arg_values(call: ast.Call) -> List[ast.AST]:
    return list(call.args) + [k.value for k in call.keywords]


def _names_in(expr: ast.AST) -> Set[str]:
    """Every name and dotted name an expression uses (`a`, `self.b`, `self`)."""
    found: Set[str] = set()
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute):
            text = dotted(node)
            if text:
                found.add(text)
        elif isinstance(node, ast.Name):
            found.add(node.id)
    return found


def _spread(call: ast.Call) -> bool:
    """`f(*args)` / `f(**kw)`: which parameter gets what is not written."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def _plain_param(fn: Scope, name: str) -> bool:
    """`name` is a parameter of `fn` and nothing in `fn` binds it again."""
    bindings = fn.bindings.get(name, ())
    return name in fn.params and bool(bindings) and all(b.kind is BindingKind.ARGUMENT for b in bindings)


def _conjuncts(test: ast.AST) -> List[ast.AST]:
    """`A and B and C` -> [A, B, C]; anything else -> [test]."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return list(test.values)
    return [test]


class TrainOpWithoutUpdateOps(Rule):
    code = "BN003"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        """A train op and a batch norm builder in the file's bytes; the
        first pattern (either of them) is what the file itself must hold."""
        train_op = _train_op_words(api)
        builders = words({last(b) for b in api.tf1_builders})
        return (re.compile(train_op + b"|" + builders), re.compile(train_op), re.compile(builders))

    @classmethod
    def stage1_project(cls) -> bool:
        """Batch norm, or the train op, may be built by a helper of a project module."""
        return True

    @classmethod
    def project_words(cls, api):
        """...one whose bytes hold what the file lacks: a train op method, a
        batch norm builder (one pattern per stage-1 pattern after the first)."""
        return (re.compile(_train_op_words(api)), re.compile(words({last(b) for b in api.tf1_builders})))

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        methods = model.api.train_op_methods
        if any(isinstance(s.call.func, ast.Attribute) and s.call.func.attr in methods for s in model.scopes.sites):
            return True
        clean = model.api.clean_libraries
        return model.project is not None and any(
            raw.lstrip(".").split(".")[0] not in clean for raw in model.scopes.imported)

    # -- update-ops references -----------------------------------------------
    def _mentions(self, node: ast.AST, names: Set[str]) -> bool:
        keys, attrs, lowered = _update_words(self.ctx.api)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                if sub.id in keys or sub.id in names:
                    return True
            elif isinstance(sub, ast.Attribute):
                if sub.attr in attrs:
                    return True
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                if sub.value.lower() in lowered:
                    return True
        return False

    def mentions_updates(self, node: ast.AST) -> bool:
        key = id(node)
        if key not in self._mentions_cache:
            self._mentions_cache[key] = self._mentions(node, self.update_names)
        return self._mentions_cache[key]

    def _update_names(self) -> Set[str]:
        """Names bound (anywhere in the file) to something holding update ops."""
        facts = []
        for target, value, _ in self.ctx.scopes.assigns:
            name = dotted(target)
            if name:
                facts.append((name, self._mentions(value, set()), _names_in(value)))
        names: Set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, direct, used in facts:
                if name not in names and (direct or used & names):
                    names.add(name)
                    changed = True
        return names

    def _is_deps(self, with_node: ast.AST) -> List[ast.Call]:
        """The `control_dependencies(...)` items of a with statement."""
        out = []
        for item in with_node.items:
            call = item.context_expr
            if isinstance(call, ast.Call):
                func = call.func
                name = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
                if name in _dependency_names(self.ctx.api)[0]:
                    out.append(call)
        return out

    def block_mentions_updates(self, with_node: ast.AST) -> bool:
        return any(self.mentions_updates(item.context_expr) for item in with_node.items)

    # -- batch norm sites ----------------------------------------------------
    def note_bn_site(self, site: CallSite) -> List[ast.AST]:
        """The batch norm a call builds that registers its updates: [call],
        [the normalizer_fn= argument], or []. Marks always-training ones."""
        call = site.call
        values = self.ctx.values
        api = self.ctx.api
        func = call.func
        short = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else None)
        if short is None:
            return []
        q = values.qualify(func) if short in self._builder_aliases() or self._elsewhere_possible() else None
        builder = api.tf1_builder(q) if q else None
        if builder is not None:
            if self._registers_updates(call, builder.training_arg, builder.training_default, "call"):
                if self._always_training(call, builder.training_arg, builder.training_default, site.scope.function):
                    self.always_training.add(id(call))
                return [call]
            return []
        elsewhere = self._builds_bn_elsewhere(site)
        if elsewhere is not None:
            if elsewhere:
                self.always_training.add(id(call))
            return [call]  # a helper of the user's other module builds it
        out = []
        for kw in call.keywords:  # normalizer_fn=slim.batch_norm
            if kw.arg is None or not isinstance(kw.value, (ast.Attribute, ast.Name)):
                continue
            if (kw.value.attr if isinstance(kw.value, ast.Attribute) else kw.value.id) not in self._builder_aliases():
                continue
            q = values.qualify(kw.value)
            builder = api.tf1_builder(q) if q else None
            if builder is not None and self._registers_updates(call, builder.training_arg,
                                                               builder.training_default, "fn"):
                out.append(kw.value)
        return out

    def _builds_bn_elsewhere(self, site: CallSite) -> Optional[bool]:
        """Does this call run a function or class of the user's other module
        that builds TF1 batch norm registering its updates? None: no; True:
        yes, and every such batch norm runs in training mode on every path
        from this call (the training argument is True as written, by a
        default this call leaves, or through a chain of helper parameters
        each of which is; see _always_true); False: yes, otherwise."""
        call = site.call
        values = self.ctx.values
        if values.project is None:
            return None
        q = values.qualify(call.func)
        if q is None and isinstance(call.func, ast.Name) and values.names.star_modules \
                and not self.ctx.names.bindings_of(call.func):
            q = values.star_qualify(call.func.id)
        module = q.rpartition(".")[0] if q else ""
        if not module or q.split(".")[0] in self.ctx.api.clean_libraries \
                or not values.project.mentions(module, self._builder_words()):
            return None  # not a project module, or one that names no batch norm builder
        target = values.external_target(q)
        if target is None:
            return None
        other, attr = target
        d = other.module_definition(attr)
        if d is None:
            return None
        scoped = "arg_scope" in self.ctx.source or values.project.mentions(module, _ARG_SCOPE)
        if d.kind is ScopeKind.CLASS:
            todo = [(m, {}) for m in d.methods.values()]  # parameters of methods: unknown
        else:
            todo = [(d, self._bound_truths(call, d, lambda e: self._always_true(e, site.scope.function)))]
        seen: Set[tuple] = set()
        builds = False
        always = True
        while todo:
            fn, env = todo.pop()
            key = (id(fn), frozenset(p for p, v in env.items() if v))
            if key in seen:
                continue
            if len(seen) > 50:
                always = False  # not followed to the end: no exemption
                break
            seen.add(key)

            def true_in_fn(expr, fn=fn, env=env) -> bool:
                return is_const(expr, True) or (isinstance(expr, ast.Name) and env.get(expr.id, False)
                                                and _plain_param(fn, expr.id))

            for inner in fn.calls:
                iq = other.qualify(inner.func)
                builder = self.ctx.api.tf1_builder(iq) if iq else None
                if builder is not None:
                    uc = kwarg(inner, "updates_collections")
                    training = kwarg(inner, builder.training_arg)
                    if (uc is None or not is_const(uc.value, None)) and not (
                            training is not None and is_const(training.value, False)) and not (
                            training is None and not builder.training_default):
                        builds = True
                        if training is not None:
                            always = always and true_in_fn(training.value)
                        else:
                            always = always and not scoped and not _spread(inner)
                else:
                    inner_def = other.definition(inner.func, ScopeKind.FUNCTION)
                    if inner_def is not None:
                        todo.append((inner_def, self._bound_truths(inner, inner_def, true_in_fn)))
        return (builds and always) if builds else None

    @staticmethod
    def _bound_truths(call: ast.Call, fn: Scope, is_true) -> Dict[str, bool]:
        """param -> is the value this call gives it True on every path
        (`is_true` judges a passed expression; a parameter left out has its
        default). {} (nothing known) when the call spreads arguments."""
        if _spread(call):
            return {}
        out = {}
        for param, default in fn.params.items():
            value = bound_argument(call, fn, param)
            out[param] = is_const(default, True) if value is None else bool(is_true(value))
        return out

    def _builder_names(self) -> frozenset:
        names = self.__dict__.get("_builder_name_set")
        if names is None:
            names = self.__dict__["_builder_name_set"] = frozenset(last(b) for b in self.ctx.api.tf1_builders)
        return names

    def _builder_aliases(self) -> frozenset:
        """Builder names, and the names this file binds to one (`from ...
        import batch_normalization as bnorm`, `BN = v1.layers.batch_normalization`):
        only calls of these can be a builder, the rest is not resolved."""
        names = self.__dict__.get("_aliases")
        if names is None:
            builders = self._builder_names()
            found = set(builders)
            scopes = self.ctx.scopes
            for scope in [scopes.module] + scopes.functions + scopes.classes:
                for name, bindings in scope.bindings.items():
                    for b in bindings:
                        if b.kind.value == "import" and b.qualified and last(b.qualified) in builders:
                            found.add(name)
                        elif b.kind.value == "assignment" and isinstance(b.value, (ast.Name, ast.Attribute)) \
                                and last(dotted(b.value) or "") in builders:
                            found.add(name)
            names = self.__dict__["_aliases"] = frozenset(found)
        return names

    def _elsewhere_possible(self) -> bool:
        """Does the file import a project module whose bytes name a batch
        norm builder? (Else no call of it can build one; nothing is parsed.)"""
        cached = self.__dict__.get("_elsewhere")
        if cached is None:
            project = self.ctx.values.project
            clean = self.ctx.api.clean_libraries
            cached = False
            if project is not None:
                for raw in set(self.ctx.scopes.imported):
                    if raw.lstrip(".").split(".")[0] in clean:
                        continue
                    parent = raw.rpartition(".")[0]
                    if project.mentions(raw, self._builder_words()) or \
                            (parent.strip(".") and project.mentions(parent, self._builder_words())):
                        cached = True
                        break
            self.__dict__["_elsewhere"] = cached
        return cached

    def _builder_words(self):
        pattern = self.__dict__.get("_builder_pattern")
        if pattern is None:
            pattern = self.__dict__["_builder_pattern"] = re.compile(
                words({last(b) for b in self.ctx.api.tf1_builders}))
        return pattern

    def _always_training(self, call: ast.Call, training_arg: str, default: bool, fn: Optional[Scope]) -> bool:
        """Training mode whatever happens (pix2pix-style): the moving statistics
        are never read by this program, so missing updates change nothing."""
        training = kwarg(call, training_arg)
        if training is not None:
            return self._always_true(training.value, fn)
        return default and "arg_scope" not in self.ctx.source and not _spread(call)

    def _always_true(self, expr: ast.AST, fn: Optional[Scope], depth: int = 0) -> bool:
        """Is `expr`, written in function `fn` of this file (None: module
        level), True on every path: the literal True, or a parameter of
        `fn` never rebound in it whose every call in this file passes a
        value that is (followed up to MAX_CHAIN parameters) or leaves a True
        default. A function of this file that other files call is not seen
        from here (rules/BN003.yaml, known problems)."""
        if is_const(expr, True):
            return True
        if isinstance(expr, ast.Name) and fn is not None and depth < MAX_CHAIN and _plain_param(fn, expr.id):
            return self._param_always_true(fn, expr.id, depth + 1)
        return False

    def _param_always_true(self, fn: Scope, param: str, depth: int = 0) -> bool:
        """`def gen(z, training=True)` whose every call in the file leaves
        `training` out (its default True) or passes a value that is True on
        every path; False when nothing in the file calls it."""
        memo = self.__dict__.setdefault("_param_true", {})
        key = (id(fn), param)
        if key in memo:
            return memo[key]
        memo[key] = False  # a cycle of calls proves nothing
        calls = self.ctx.values.graph.callers(fn)
        result = bool(calls)
        for call, scope in calls:
            if _spread(call):
                result = False
                break
            value = bound_argument(call, fn, param)
            if value is None:
                if not is_const(fn.params.get(param), True):
                    result = False
                    break
            elif not self._always_true(value, scope.function, depth):
                result = False
                break
        memo[key] = result
        return result

    def _registers_updates(self, call: ast.Call, training_arg: str, default: bool, how: str) -> bool:
        if how == "call":
            uc = kwarg(call, "updates_collections")
            if uc is not None:
                return not is_const(uc.value, None)
            training = kwarg(call, training_arg)
            if training is not None and is_const(training.value, False):
                return False
            if training is None and not default and not any(isinstance(a, ast.Starred) for a in call.args) \
                    and not any(k.arg is None for k in call.keywords):
                return False  # tf.layers.batch_normalization(x): always inference
        # updates_collections=None anywhere (arg_scope, a params dict) opts out
        return not _UPDATES_NONE.search(self.ctx.source)

    # -- the walk over call sites --------------------------------------------
    def check(self) -> None:
        self._mentions_cache: Dict[int, bool] = {}
        self.always_training: Set[int] = set()
        scopes = self.ctx.scopes
        methods = self.ctx.api.train_op_methods
        # Pass 1, cheap: is there a train op and a batch norm at all?
        helper_ops = self._helper_train_ops()
        if not helper_ops and not any(isinstance(s.call.func, ast.Attribute) and s.call.func.attr in methods
                                      for s in scopes.sites):
            return
        bn_of: Dict[int, List[ast.AST]] = {}
        for site in scopes.sites:
            found = self.note_bn_site(site)
            if found:
                bn_of[id(site.call)] = found
        if not bn_of:
            return
        # Pass 2: the update ops, and how each train op relates to them.
        self.update_names = self._update_names()
        bn_sites: List[ast.AST] = []
        train_ops: List[tuple] = []  # (call, under update deps, fn)
        gradients_under_update: Set[int] = set()
        called_under_update: Set[str] = set()
        scopes_with_update_deps: Set[int] = set()
        guards_of: Dict[int, frozenset] = {}
        self.calls_in: Dict[int, List[CallSite]] = {0: []}
        self.bn_in: Dict[int, int] = {}
        self.module_bn_at: List[tuple] = []  # where module-level code builds batch norm
        for node, scope in scopes.withs:
            if self._is_deps(node) and self.block_mentions_updates(node) and not self._holds_train_op(node):
                fn = scope.function
                scopes_with_update_deps.add(id(fn) if fn is not None else 0)
        for site in scopes.sites:
            call = site.call
            func = call.func
            fn = site.scope.function
            key = id(fn) if fn is not None else 0
            under_update = bool(site.withs) and any(
                self._is_deps(w) and self.block_mentions_updates(w) for w in site.withs)
            if isinstance(func, ast.Attribute) and func.attr in methods or id(call) in helper_ops:
                train_ops.append((call, under_update, fn))
                guards_of[id(call)] = self._guards(site)
            elif isinstance(func, ast.Attribute) and func.attr in self.ctx.api.gradient_methods and under_update:
                gradients_under_update.add(key)
            callee = func.id if isinstance(func, ast.Name) else (func.attr if isinstance(func, ast.Attribute) else None)
            if callee is not None:
                self.calls_in.setdefault(key, []).append(site)
                if under_update:
                    called_under_update.add(callee)
            for bn in bn_of.get(id(call), ()):
                bn_sites.append(bn)
                self.bn_in[key] = self.bn_in.get(key, 0) + 1
                if key == 0:
                    self.module_bn_at.append(start(call))
                guards_of[id(bn)] = self._guards(site)
        if all(id(s) in self.always_training for s in bn_sites):
            return  # moving statistics are never read: every BN runs in training mode
        self._graph_tables()
        runs = [s.call for s in scopes.sites if isinstance(s.call.func, ast.Attribute) and s.call.func.attr == "run"
                and any(self.mentions_updates(a) for a in _arg_values(s.call))]
        shown = next((s for s in bn_sites if id(s) not in self.always_training), bn_sites[0])
        bn_line = self.line_of(shown)  # a batch norm whose moving statistics are read
        # a train op whose loss is a number raises when built: when nothing
        # guards it, the rest of its function never runs
        raises_at: Dict[int, tuple] = {}
        for call, _, fn in train_ops:
            site = scopes.site_of.get(id(call))
            if fn is not None and site is not None and not site.blocks and self._loss_is_a_number(call, fn):
                key = id(fn)
                raises_at[key] = min(raises_at.get(key, start(call)), start(call))
        for call, under_update, fn in train_ops:
            key = id(fn) if fn is not None else 0
            if key in raises_at and start(call) > raises_at[key]:
                continue  # never reached
            if under_update or key in scopes_with_update_deps:
                continue
            if isinstance(call.func, ast.Attribute) and call.func.attr == "apply_gradients" \
                    and key in gradients_under_update:
                continue
            if fn is not None and fn.name in called_under_update:
                continue
            if self._grouped_with_updates(call) or self._fetched_with_updates(call, runs):
                continue
            if self._excluded_by_guard(call, guards_of, bn_sites) or not self.trains_batch_norm(fn, call):
                continue  # this train op's graph has no batch norm of this file
            if self._loss_is_a_number(call, fn):
                continue  # minimize(0.0) raises: no train op is ever built here
            self.report(call, Variant.DEFAULT, call=self.ctx.segment(call.func), bn_line=bn_line,
                        context={"bn": shown, "train_ops": len(train_ops), "helper": id(call) in helper_ops})

    def _guards(self, site: CallSite) -> frozenset:
        out = set()
        for test, branch in site.guards:
            if branch:
                out.update((self.ctx.segment(c), True) for c in _conjuncts(test))
            else:
                out.add((self.ctx.segment(test), False))
        return frozenset(out)

    def _holds_train_op(self, node: ast.AST) -> bool:
        """A dependencies block that makes a train op is the usual idiom; one
        that makes something else (loss = tf.identity(loss)) is the
        Estimator idiom that may wire the updates in indirectly."""
        methods = self.ctx.api.train_op_methods
        return any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in methods
                   for stmt in node.body for sub in ast.walk(stmt))

    @staticmethod
    def _excluded_by_guard(train_call: ast.Call, guards_of: Dict[int, frozenset], bn_sites) -> bool:
        """Every batch norm is built under `if C:` and the train op sits in
        the `else` of `C`: they never share a graph."""
        mine = guards_of.get(id(train_call), frozenset())
        off = {cond for cond, branch in mine if not branch}
        if not off:
            return False
        return all(any(cond in off and branch for cond, branch in guards_of.get(id(site), ()))
                   for site in bn_sites)

    # -- which batch norm does a train op train? ------------------------------
    def _graph_tables(self) -> None:
        """By-name call graph (a method called on any object counts; calling
        a class runs its methods), as TF1 graph building is global."""
        self.defs: Dict[str, List[Scope]] = {}
        self.order: Dict[int, int] = {0: -1}
        self.parent: Dict[int, Optional[Scope]] = {}
        for i, fn in enumerate(self.ctx.scopes.functions):
            if fn.parent is not None and fn.parent.kind is ScopeKind.CLASS:
                self.defs.setdefault(fn.parent.name, []).append(fn)
            self.order[id(fn)] = i
            p = fn.parent
            while p is not None and p.kind is not ScopeKind.FUNCTION:
                p = p.parent
            self.parent[id(fn)] = p
            self.defs.setdefault(fn.name, []).append(fn)
        self.children: Dict[int, List[Scope]] = {}
        for fn in self.ctx.scopes.functions:
            p = self.parent[id(fn)]
            self.children.setdefault(id(p) if p is not None else 0, []).append(fn)

    def _resolve(self, name: str, user: Optional[Scope]) -> List[Scope]:
        """By name, for what bindings cannot tell: the definitions of `name`
        that `user` calls, the latest one written before `user` (a notebook
        redefining a function), else the first."""
        defs = self.defs.get(name, [])
        if len(defs) <= 1 or user is None or any(d.name != name for d in defs):
            return defs
        before = [d for d in defs if self.order[id(d)] < self.order[id(user)]]
        return [before[-1]] if before else [defs[0]]

    def _targets(self, site: CallSite, user: Optional[Scope]) -> List[Scope]:
        """The functions of this file a call runs. A plain name follows the
        binding in force where it is read (semantic call graph), so a local
        `def build()` shadows the module's and not the other way round; a
        class runs its methods; `self.m()` the class's method. What the
        bindings cannot tell stays by name: a module-level function defined
        more than once (notebook cells trying versions: the latest before
        the caller), and `obj.m()` on any object (a method of that name)."""
        key = id(site.call)
        cache = self.__dict__.setdefault("_target_cache", {})
        if key in cache:
            return cache[key]
        func = site.call.func
        out: List[Scope] = []
        if isinstance(func, ast.Name):
            d, found = self.ctx.names.local_target(func)
            if d is not None:
                redefined = [b for b in d.parent.bindings.get(func.id, ()) if b.kind is BindingKind.DEFINITION] \
                    if d.parent is not None else []
                if d.parent is self.ctx.scopes.module and len(redefined) > 1 and user is not None:
                    out = self._resolve(func.id, user)
                elif d.kind is ScopeKind.CLASS:
                    out = [f for f in self.ctx.scopes.functions if f.parent is d]
                else:
                    out = [d]
        elif isinstance(func, ast.Attribute):
            d = self.ctx.values.graph.target(site)
            out = [d] if d is not None and d.is_function else self._resolve(func.attr, user)
        cache[key] = out
        return out

    def _callers_of(self) -> Dict[int, List[Optional[Scope]]]:
        """id(function) -> the functions (None: module level) whose calls run it."""
        table = self.__dict__.get("_callers_table")
        if table is None:
            table = {}
            for user in [None] + self.ctx.scopes.functions:
                for site in self.calls_in.get(id(user) if user is not None else 0, ()):
                    for t in self._targets(site, user):
                        table.setdefault(id(t), []).append(user)
            self.__dict__["_callers_table"] = table
        return table

    def trains_batch_norm(self, fn: Optional[Scope], call: Optional[ast.Call] = None) -> bool:
        """Is batch norm built in code that runs with this train op: module
        level, the function itself, what it calls, what calls it (and what
        those call)? A train op of module-level code (a script, a notebook
        read in cell order) trains only batch norm built before it: by
        module-level code above it, or by the functions that code calls."""
        if fn is None and call is not None:
            return self._module_trains_batch_norm(start(call))
        if self.bn_in.get(0):
            return True
        callers = self._callers_of()
        starts: Dict[int, Optional[Scope]] = {id(fn) if fn is not None else 0: fn}
        frontier = [fn]
        while frontier:  # callers, transitively
            target = frontier.pop()
            if target is None:
                continue
            for user in callers.get(id(target), ()):
                ukey = id(user) if user is not None else 0
                if ukey not in starts:
                    starts[ukey] = user
                    frontier.append(user)
            parent = self.parent.get(id(target))
            if parent is not None and id(parent) not in starts:
                starts[id(parent)] = parent
                frontier.append(parent)
        # Module-level code that redefines functions (a notebook trying one
        # version after another) builds several graphs: as a caller it then
        # contributes only its own batch norm (checked above).
        if fn is not None and any(len(d) > 1 and all(f.name == n for f in d) for n, d in self.defs.items()):
            starts.pop(0, None)
        seen: Set[int] = set()
        stack = list(starts.values())
        while stack:  # and everything they call
            g = stack.pop()
            gkey = id(g) if g is not None else 0
            if gkey in seen:
                continue
            seen.add(gkey)
            if self.bn_in.get(gkey):
                return True
            for site in self.calls_in.get(gkey, ()):
                stack += self._targets(site, g)
            if g is not None:  # functions defined inside g run with it
                stack += self.children.get(gkey, [])
        return False

    def _module_trains_batch_norm(self, at: tuple) -> bool:
        if any(pos < at for pos in self.module_bn_at):
            return True
        seen: Set[int] = set()
        stack: List[Scope] = []
        for site in self.calls_in.get(0, ()):
            if start(site.call) < at:
                stack += self._targets(site, None)
        while stack:
            g = stack.pop()
            if id(g) in seen:
                continue
            seen.add(id(g))
            if self.bn_in.get(id(g)):
                return True
            for site in self.calls_in.get(id(g), ()):
                stack += self._targets(site, g)
            stack += self.children.get(id(g), [])
        return False

    def _loss_is_a_number(self, call: ast.Call, fn: Optional[Scope]) -> bool:
        """`opt.minimize(loss=self.d_loss)` where `self.d_loss` is still the
        number `__init__` set (no assignment above it in this method):
        minimize raises on a Python number, so this train op never exists."""
        loss = kwarg(call, "loss")
        value = loss.value if loss is not None else (call.args[0] if call.args else None)
        if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) \
                and not isinstance(value.value, bool):
            return True
        if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)
                and value.value.id == "self" and fn is not None and fn.cls is not None):
            return False
        at = start(call)
        found = fn.cls.self_assigns.get(value.attr, ())
        earlier = [(v, m) for v, m in found if m is not fn or start(v) < at]
        return bool(earlier) and all(
            m.name == "__init__" and m is not fn and isinstance(v, ast.Constant)
            and isinstance(v.value, (int, float)) and not isinstance(v.value, bool) for v, m in earlier)

    # -- a train op built by a helper of another module ------------------------
    def _helper_train_ops(self) -> Set[int]:
        """ids of the calls of this file that run a function of the user's
        other module (or construct a class of it whose `__init__` does) which builds a train op (`.minimize(...)` /
        `.apply_gradients(...)`, in it or in functions of that module it
        calls, up to MAX_HELPER_DEPTH deep), where that module's bytes never
        mention the update ops, a control dependency, `tf.group` or
        `create_train_op` (it may wire them in: not reported)."""
        values = self.ctx.values
        project = values.project
        if project is None or not self._imports_project():
            return set()
        api = self.ctx.api
        train_op = type(self).stage1(api)[1]
        methods = api.train_op_methods
        out: Set[int] = set()
        for site in self.ctx.scopes.sites:
            func = site.call.func
            if isinstance(func, ast.Attribute) and func.attr in methods:
                continue
            q = values.qualify(func)
            if q is None and isinstance(func, ast.Name) and values.names.star_modules \
                    and not self.ctx.names.bindings_of(func):
                q = values.star_qualify(func.id)
            module = q.rpartition(".")[0] if q else ""
            if not module or q.split(".")[0] in api.clean_libraries or q in api.update_aware_builders:
                continue
            if not project.mentions(module, train_op) or project.mentions(module, _HELPER_UPDATES):
                continue
            target = values.external_target(q)
            if target is None:
                continue
            other, attr = target
            d = other.module_definition(attr)
            if d is not None and d.kind is ScopeKind.CLASS:
                d = other.method(d, "__init__")  # constructing the class runs it
            if d is not None and d.kind is ScopeKind.FUNCTION and self._builds_train_op(other, d, methods):
                out.add(id(site.call))
        return out

    def _imports_project(self) -> bool:
        clean = self.ctx.api.clean_libraries
        return any(raw.lstrip(".").split(".")[0] not in clean for raw in self.ctx.scopes.imported)

    @staticmethod
    def _builds_train_op(other, fn: Scope, methods) -> bool:
        """Does `fn` of module `other` (or a function of it that `fn` calls,
        through that module's call graph) call a train op method?"""
        reached = other.graph.reachable([(fn, None)], max_depth=MAX_HELPER_DEPTH)
        for scope, _ in reached.values():
            if any(isinstance(c.func, ast.Attribute) and c.func.attr in methods for c in scope.calls):
                return True
        return False

    # -- grouping and fetching -----------------------------------------------
    def _assigned_names(self) -> Dict[int, str]:
        """id(value) -> the dotted name it is assigned to (`train_op = opt.minimize(...)`)."""
        cached = self.__dict__.get("_assigned_cache")
        if cached is None:
            cached = {}
            for target, value, _ in self.ctx.scopes.assigns:
                text = dotted(target)
                if text:
                    cached[id(value)] = text
            self.__dict__["_assigned_cache"] = cached
        return cached

    def _fetched_with_updates(self, train_call: ast.Call, runs: List[ast.Call]) -> bool:
        """This train op is run together with the update ops (another train op
        fetched with them does not excuse it). A train op with no name of its
        own cannot be told apart, so any such run counts."""
        if not runs:
            return False
        target = self._assigned_names().get(id(train_call))
        if target is None:
            return True
        return any(target in self._names(a) for run in runs for a in _arg_values(run))

    def _names(self, expr: ast.AST) -> Set[str]:
        cache = self.__dict__.setdefault("_names_cache", {})
        if id(expr) not in cache:
            cache[id(expr)] = _names_in(expr)
        return cache[id(expr)]

    def _grouped_with_updates(self, train_call: ast.Call) -> bool:
        """The train op's variable is grouped with, or made a dependency of, the update ops."""
        target = self._assigned_names().get(id(train_call))
        if target is None:
            return False
        for args, under_deps_on in self._grouping_sites():
            if any(target in self._names(a) for a in args) and any(self.mentions_updates(a) for a in args):
                return True  # tf.group(train_op, *update_ops)
            if any(target in self._names(a) for dep_args in under_deps_on for a in dep_args) \
                    and any(self.mentions_updates(a) for a in args):
                return True  # with control_dependencies([train_op]): tf.group(update_ops)
        return False

    def _grouping_sites(self) -> List[tuple]:
        """Every group/tuple/control_dependencies call, with the arguments of
        the control_dependencies blocks around it."""
        cached = self.__dict__.get("_grouping_cache")
        if cached is not None:
            return cached
        sites: List[tuple] = []
        for site in self.ctx.scopes.sites:
            func = site.call.func
            name = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
            control, grouping = _dependency_names(self.ctx.api)
            if name in grouping or name in control:
                deps = []
                if name in grouping:
                    for w in site.withs:
                        deps.append([a for c in self._is_deps(w) for a in _arg_values(c)])
                sites.append((_arg_values(site.call), deps))
        self.__dict__["_grouping_cache"] = sites
        return sites


# -- fix (libcst, built only for files with findings) -------------------------
def _prefixes(fctx):
    """(prefix for control_dependencies, prefix for the collection), or None."""
    api = fctx.ctx.api
    aliases = fctx.ctx.names.module_aliases()
    v1 = sorted(n for n, raw in aliases.items() if raw in api.tf1_compat_modules)
    tf = sorted(n for n, raw in aliases.items() if raw == "tensorflow")
    if v1:
        name = "tf" if "tf" in v1 else v1[0]
        return f"{name}.", f"{name}."
    if tf:
        name = "tf" if "tf" in tf else tf[0]
        if any(m.group(1) == name for m in _COMPAT_V1.finditer(fctx.source)):
            return f"{name}.", f"{name}.compat.v1."
        return f"{name}.", f"{name}."
    return None


def _statement(fctx, call):
    """The statement line holding the train op, when a `with` can wrap it."""
    import libcst as cst

    for up in fctx.ancestors(call):
        if isinstance(up, (cst.Lambda, cst.GeneratorExp, cst.FunctionDef, cst.ClassDef)):
            return None  # made later, elsewhere, or lazily: not by this statement
        if isinstance(up, cst.SimpleStatementLine):
            return up
        if isinstance(up, (cst.BaseCompoundStatement, cst.SimpleStatementSuite)):
            return None  # in an `if`/`for` header or a one-line suite
    return None


def _function_of(scopes, node: ast.AST):
    site = scopes.site_of.get(id(node))
    return site.scope.function if site is not None else None


def fix_wrap(fctx, report):
    import libcst as cst

    from ..finding import Fix

    call = fctx.locate(report.node, cst.Call)
    stmt = _statement(fctx, call) if call is not None else None
    names = _prefixes(fctx)
    if stmt is None or names is None:
        return None
    deps, coll = names
    item = cst.parse_expression(f"{deps}control_dependencies({coll}get_collection({coll}GraphKeys.UPDATE_OPS))")
    wrapped = cst.With(
        items=[cst.WithItem(item=item)],
        body=cst.IndentedBlock(body=[stmt.with_changes(leading_lines=[])]),
        leading_lines=stmt.leading_lines,
    )
    bn = report.context.get("bn")
    scopes = fctx.ctx.scopes
    sees_whole = (bn is not None and len(stmt.body) == 1 and report.context.get("train_ops") == 1
                  and not report.context.get("helper")
                  and _function_of(scopes, bn if isinstance(bn, ast.Call) else report.node) is
                  _function_of(scopes, report.node)
                  and (bn.lineno, bn.col_offset) < (report.node.lineno, report.node.col_offset)
                  and bn.end_lineno < report.node.lineno)
    header = f"with {deps}control_dependencies(...)"
    return Fix(f"Create the train op under `{header}` of the update ops", "safe" if sees_whole else "unsafe",
               fctx.edits({stmt: wrapped}))


TrainOpWithoutUpdateOps.fixers = {Variant.DEFAULT: fix_wrap}


def _helper_update_words(data) -> bytes:
    """The regex source of _HELPER_UPDATES from api.yaml's raw tables."""
    def names(key):
        return {last(str(n)) for n in data.get(key) or []}
    keys = names("update_ops_keys")
    literal = keys | {k.lower() for k in keys} | names("control_dependency_functions") \
        | names("update_aware_train_op_builders")
    return (words(literal) + rb"|\.(?:" + words(names("keras_update_attributes")) + rb")\b"
            + rb"|\b(?:" + words(names("grouping_functions")) + rb")\s*\(")


# Bytes that show a helper module takes care of the update ops itself (the
# collection, Keras `updates`, a control dependency, a group, an
# update-aware builder such as slim's `create_train_op`): its train op is
# not reported at the call. From api.yaml's tables.
_HELPER_UPDATES = re.compile(_helper_update_words(api_tables()))


@lru_cache(maxsize=8)
def _update_words(api) -> Tuple[FrozenSet[str], FrozenSet[str], FrozenSet[str]]:
    """(names that mean the update-ops collection, attributes that expose
    updates, the collection names lower-cased for string keys), once per Api."""
    t = family_tables(api)
    keys = t.update_ops_keys
    return keys, keys | t.keras_update_attributes, frozenset(k.lower() for k in keys)


@lru_cache(maxsize=8)
def _dependency_names(api) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """(last names of the control-dependency calls, of the grouping calls)."""
    return api.last_names(api.control_dependency_functions), api.last_names(api.grouping_functions)
