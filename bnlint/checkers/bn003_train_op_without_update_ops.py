"""BN003: TF1 graph code builds batch norm, but the train op never runs
the UPDATE_OPS, so the moving statistics stay at their initial 0 and 1.

A train op counts as correct when any of the forms measured to work is
present: created under `control_dependencies(<update ops>)` (also through a
function called there, or with only `compute_gradients` inside), grouped
with the update ops, update ops fetched in a `run(...)`, or batch norm
built with `updates_collections=None`.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..index import bound_argument
from ..names import dotted
from .base import Checker, is_literal, kwarg, source_of

_UPDATES_NONE = re.compile(r"""updates_collections['"]?\s*[:=]\s*None""")


class _Mentions(cst.CSTVisitor):
    """Does an expression mention the update ops (directly or via a name)?"""

    def __init__(self, names: Set[str]) -> None:
        self.names = names
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "UPDATE_OPS" or node.value in self.names:
            self.found = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in ("UPDATE_OPS", "updates"):
            self.found = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node.value.strip("'\"").lower() == "update_ops":
            self.found = True


class _Walker(cst.CSTVisitor):
    """Records, per train-op call, the control_dependencies blocks around it."""

    def __init__(self, rule: "TrainOpWithoutUpdateOps") -> None:
        self.rule = rule
        self.deps: List[cst.With] = []
        self.fn_stack: List[Optional[cst.FunctionDef]] = [None]
        self.train_ops: List[tuple] = []  # (call, deps tuple, fn)
        self.gradients_under_update: Set[Optional[cst.FunctionDef]] = set()
        self.called_under_update: Set[str] = set()
        self.bn_sites: List[cst.CSTNode] = []
        self.always_training: Set[int] = set()
        # Scopes that make something depend on the update ops (e.g.
        # `loss = tf.identity(loss)` under them, fetched by the Estimator with
        # the train op): whether that is fetched each step cannot be told
        # from the source, so their train ops are not reported.
        self.scopes_with_update_deps: Set[Optional[cst.FunctionDef]] = set()
        # A small call graph, to tie each train op to the batch norm it trains.
        self.defs: Dict[str, List[cst.FunctionDef]] = {}
        self.order: Dict[Optional[cst.FunctionDef], int] = {None: -1}
        self.parent: Dict[cst.FunctionDef, Optional[cst.FunctionDef]] = {}
        self.calls_in: Dict[Optional[cst.FunctionDef], Set[str]] = {None: set()}
        self.bn_in: Dict[Optional[cst.FunctionDef], int] = {}
        self.class_stack: List[str] = []
        # `if use_bn:` guards: (condition source, branch) for each BN site and
        # train op, so a train op in the `else` of the condition that guards
        # every batch norm is known not to see one.
        self.guards: List[tuple] = []
        self.guards_of: Dict[int, frozenset] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_stack.append(node.name.value)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.class_stack and self.fn_stack[-1] is None:
            # Calling the class runs its methods (__init__ and what it calls).
            self.defs.setdefault(self.class_stack[-1], []).append(node)
        self.order[node] = len(self.order)
        self.parent[node] = self.fn_stack[-1]
        self.defs.setdefault(node.name.value, []).append(node)
        self.calls_in.setdefault(node, set())
        self.fn_stack.append(node)
        self._saved = getattr(self, "_saved", [])
        self._saved.append(self.deps)
        self.deps = []

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.fn_stack.pop()
        self.deps = self._saved.pop()

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and isinstance(call.func, (cst.Attribute, cst.Name)):
                name = call.func.attr.value if isinstance(call.func, cst.Attribute) else call.func.value
                if name == "control_dependencies":
                    self.deps.append(node)
                    if self.rule.block_mentions_updates(node) and not self._holds_train_op(node):
                        self.scopes_with_update_deps.add(self.fn_stack[-1])

    def _holds_train_op(self, node: cst.With) -> bool:
        """A dependencies block that makes a train op is the usual idiom; one
        that makes something else (loss = tf.identity(loss)) is the
        Estimator idiom that may wire the updates in indirectly."""
        methods = self.rule.ctx.api.train_op_methods
        found = []

        class _V(cst.CSTVisitor):
            def visit_Call(self, call: cst.Call) -> None:
                if isinstance(call.func, cst.Attribute) and call.func.attr.value in methods:
                    found.append(call)

        node.body.visit(_V())
        return bool(found)

    def leave_With(self, node: cst.With) -> None:
        if self.deps and self.deps[-1] is node:
            self.deps.pop()

    def visit_Call(self, node: cst.Call) -> None:
        rule = self.rule
        func = node.func
        under_update = any(rule.block_mentions_updates(w) for w in self.deps)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in rule.ctx.api.train_op_methods:
                self.train_ops.append((node, under_update, self.fn_stack[-1]))
                self.guards_of[id(node)] = frozenset(g for level in self.guards for g in level)
            elif method in rule.ctx.api.gradient_methods and under_update:
                self.gradients_under_update.add(self.fn_stack[-1])
        callee = func.value if isinstance(func, cst.Name) else (
            func.attr.value if isinstance(func, cst.Attribute) else None)
        if callee is not None:
            self.calls_in[self.fn_stack[-1]].add(callee)
            if under_update:
                self.called_under_update.add(callee)
        before = len(self.bn_sites)
        rule.note_bn_site(node, self.bn_sites, self.always_training, self.fn_stack[-1])
        if len(self.bn_sites) > before:
            fn = self.fn_stack[-1]
            self.bn_in[fn] = self.bn_in.get(fn, 0) + 1
            self.guards_of[id(self.bn_sites[-1])] = frozenset(g for level in self.guards for g in level)

    def visit_If_body(self, node: cst.If) -> None:
        # inside `if A and B:` both A and B hold
        self.guards.append(tuple((source_of(c), True) for c in _conjuncts(node.test)))

    def leave_If_body(self, node: cst.If) -> None:
        self.guards.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self.guards.append(((source_of(node.test), False),))

    def leave_If_orelse(self, node: cst.If) -> None:
        self.guards.pop()

    def excluded_by_guard(self, train_call: cst.Call) -> bool:
        """Every batch norm is built under `if C:` and the train op sits in
        the `else` of `C`: they never share a graph."""
        mine = self.guards_of.get(id(train_call), frozenset())
        off = {cond for cond, branch in mine if not branch}
        if not off:
            return False
        return all(any(cond in off and branch for cond, branch in self.guards_of.get(id(site), ()))
                   for site in self.bn_sites)

    def visit_Arg(self, node: cst.Arg) -> None:
        # normalizer_fn=slim.batch_norm inside a dict or arg_scope call is
        # counted by note_bn_site on the enclosing call.
        return None

    # -- which batch norm does a train op train? ------------------------------
    def _resolve(self, name: str, user: Optional[cst.FunctionDef]) -> List[cst.FunctionDef]:
        """The definition of `name` that `user` calls: the latest one written
        before `user` (a notebook redefining a function), else the first."""
        defs = self.defs.get(name, [])
        if len(defs) <= 1 or user is None or any(d.name.value != name for d in defs):
            return defs
        before = [d for d in defs if self.order[d] < self.order[user]]
        return [before[-1]] if before else [defs[0]]

    def trains_batch_norm(self, fn: Optional[cst.FunctionDef]) -> bool:
        """Is batch norm built in code that runs with this train op: module
        level, the function itself, what it calls, what calls it (and what
        those call)?"""
        if self.bn_in.get(None):
            return True
        starts = {fn}
        frontier = [fn]
        while frontier:  # callers, transitively
            target = frontier.pop()
            if target is None:
                continue
            for user, names in self.calls_in.items():
                if user not in starts and target.name.value in names \
                        and target in self._resolve(target.name.value, user):
                    starts.add(user)
                    frontier.append(user)
            parent = self.parent.get(target)
            if parent is not None and parent not in starts:
                starts.add(parent)
                frontier.append(parent)
        # Module-level code that redefines functions (a notebook trying one
        # version after another) builds several graphs: as a caller it then
        # contributes only its own batch norm (checked above).
        if fn is not None and any(len(d) > 1 and all(f.name.value == n for f in d)
                                  for n, d in self.defs.items()):
            starts.discard(None)
        seen: Set[Optional[cst.FunctionDef]] = set()
        stack = list(starts)
        while stack:  # and everything they call
            g = stack.pop()
            if g in seen:
                continue
            seen.add(g)
            if self.bn_in.get(g):
                return True
            for name in self.calls_in.get(g, ()):
                stack += self._resolve(name, g)
            if g is not None:  # functions defined inside g run with it
                stack += [d for d, p in self.parent.items() if p is g]
        return False


class TrainOpWithoutUpdateOps(Checker):
    code = "BN003"

    def check(self) -> None:
        self.update_names = self._update_names()
        walker = _Walker(self)
        self.ctx.module.visit(walker)
        if not walker.bn_sites or not walker.train_ops:
            return
        if all(id(site) in walker.always_training for site in walker.bn_sites):
            return  # moving statistics are never read: every BN runs in training mode
        runs = self._runs_fetching_updates()
        bn_line = self.line_of(walker.bn_sites[0])
        for call, under_update, fn in walker.train_ops:
            if under_update or fn in walker.scopes_with_update_deps:
                continue
            method = call.func.attr.value
            if method == "apply_gradients" and fn in walker.gradients_under_update:
                continue
            if fn is not None and fn.name.value in walker.called_under_update:
                continue
            if self._grouped_with_updates(call) or self._fetched_with_updates(call, runs):
                continue
            if walker.excluded_by_guard(call) or not walker.trains_batch_norm(fn):
                continue  # this train op's graph has no batch norm of this file
            self.report(call, "default", call=source_of(call.func), bn_line=bn_line, context={"bn": walker.bn_sites[0]})

    # -- batch norm sites ----------------------------------------------------
    def note_bn_site(self, call: cst.Call, sites: List[cst.CSTNode], always: Set[int],
                     fn: Optional[cst.FunctionDef] = None) -> None:
        ix = self.ctx.index
        api = self.ctx.api
        q = ix.qualify(call.func)
        builder = api.tf1_builder(q) if q else None
        if builder is not None:
            if self._registers_updates(call, builder.training_arg, builder.training_default, "call"):
                sites.append(call)
                if self._always_training(call, builder.training_arg, builder.training_default, fn):
                    always.add(id(call))
            return
        if builder is None and self._builds_bn_elsewhere(call):
            sites.append(call)  # a helper of the user's other module builds it
            return
        for arg in call.args:  # normalizer_fn=slim.batch_norm
            if arg.keyword is None or not isinstance(arg.value, (cst.Attribute, cst.Name)):
                continue
            q = ix.qualify(arg.value)
            builder = api.tf1_builder(q) if q else None
            if builder is not None and self._registers_updates(call, builder.training_arg,
                                                               builder.training_default, "fn"):
                sites.append(arg.value)

    def _builds_bn_elsewhere(self, call: cst.Call) -> bool:
        """Does this call run a function or class of the user's other module
        that builds TF1 batch norm registering its updates?"""
        ix = self.ctx.index
        if ix.locator is None:
            return False
        q = ix.qualify(call.func)
        if q is None and isinstance(call.func, cst.Name) and call.func.value not in ix.functions \
                and call.func.value not in ix.classes and ix.names.star_modules:
            q = ix.star_qualify(call.func.value)
        target = ix.external_target(q) if q else None
        if target is None:
            return False
        other, attr = target
        todo = ([other.functions[attr]] if attr in other.functions else []) + \
            (list(other.classes[attr].methods.values()) if attr in other.classes else [])
        seen = set()
        while todo:
            fn = todo.pop()
            if id(fn) in seen or len(seen) > 50:
                continue
            seen.add(id(fn))
            for inner in fn.calls:
                iq = other.qualify(inner.func)
                builder = self.ctx.api.tf1_builder(iq) if iq else None
                if builder is not None:
                    uc = kwarg(inner, "updates_collections")
                    training = kwarg(inner, builder.training_arg)
                    if (uc is None or not is_literal(uc.value, "None")) and not (
                            training is not None and is_literal(training.value, "False")) and not (
                            training is None and not builder.training_default):
                        return True
                elif isinstance(inner.func, cst.Name) and inner.func.value in other.functions:
                    todo.append(other.functions[inner.func.value])
        return False

    def _always_training(self, call: cst.Call, training_arg: str, default: bool,
                         fn: Optional[cst.FunctionDef] = None) -> bool:
        """Training mode whatever happens (pix2pix-style): the moving statistics
        are never read by this program, so missing updates change nothing."""
        training = kwarg(call, training_arg)
        if training is not None:
            if is_literal(training.value, "True"):
                return True
            if isinstance(training.value, cst.Name) and fn is not None:
                return self._param_always_true(fn, training.value.value)
            return False
        return default and "arg_scope" not in self.ctx.source and not any(a.star for a in call.args)

    def _param_always_true(self, fn: cst.FunctionDef, param: str) -> bool:
        """`def gen(z, training=True)` whose every call in the file leaves
        `training` out or passes True."""
        info = self.ctx.index.function_by_node.get(fn)
        if info is None or not is_literal(info.params.get(param) or cst.Name("None"), "True"):
            return False
        calls = self.ctx.index.calls_by_name.get(fn.name.value, [])
        if not calls:
            return False
        for call, _ in calls:
            if any(a.star for a in call.args):
                return False
            arg = bound_argument(call, info, param)
            if arg is not None and not is_literal(arg.value, "True"):
                return False
        return True

    def _registers_updates(self, call: cst.Call, training_arg: str, default: bool, how: str) -> bool:
        if how == "call":
            uc = kwarg(call, "updates_collections")
            if uc is not None:
                return not is_literal(uc.value, "None")
            training = kwarg(call, training_arg)
            if training is not None and is_literal(training.value, "False"):
                return False
            if training is None and not default and not any(a.star for a in call.args):
                return False  # tf.layers.batch_normalization(x): always inference
        # updates_collections=None anywhere (arg_scope, a params dict) opts out
        return not _UPDATES_NONE.search(self.ctx.source)

    # -- update-ops references -----------------------------------------------
    def _update_names(self) -> Set[str]:
        """Names bound (anywhere in the file) to something holding update ops."""
        names: Set[str] = set()
        assigns = []

        class _V(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                for t in node.targets:
                    text = dotted(t.target)
                    if text:
                        assigns.append((text, node.value))

            def visit_AugAssign(self, node: cst.AugAssign) -> None:
                text = dotted(node.target)
                if text:
                    assigns.append((text, node.value))

        self.ctx.module.visit(_V())
        # One visit per value: does it mention UPDATE_OPS itself, and which
        # names does it use; then a fixpoint over those sets.
        facts = []
        for name, value in assigns:
            direct = _Mentions(set())
            value.visit(direct)
            facts.append((name, direct.found, _names_in(value)))
        changed = True
        while changed:
            changed = False
            for name, direct, used in facts:
                if name not in names and (direct or used & names):
                    names.add(name)
                    changed = True
        return names

    def mentions_updates(self, node: cst.CSTNode, names: Optional[Set[str]] = None) -> bool:
        if names is not None:  # while the names are still being found
            v = _Mentions(names)
            node.visit(v)
            return v.found
        cache = self.__dict__.setdefault("_mentions_cache", {})
        key = id(node)
        if key not in cache:
            v = _Mentions(self.update_names)
            node.visit(v)
            cache[key] = v.found
        return cache[key]

    def block_mentions_updates(self, with_node: cst.With) -> bool:
        return any(self.mentions_updates(item.item) for item in with_node.items)

    def _runs_fetching_updates(self) -> List[cst.Call]:
        """`sess.run([train_op, update_ops])` calls: they fetch the update ops."""
        found: List[cst.Call] = []
        rule = self

        class _V(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                if isinstance(node.func, cst.Attribute) and node.func.attr.value == "run" \
                        and any(rule.mentions_updates(a.value) for a in node.args):
                    found.append(node)

        self.ctx.module.visit(_V())
        return found

    def _fetched_with_updates(self, train_call: cst.Call, runs: List[cst.Call]) -> bool:
        """This train op is run together with the update ops (another train op
        fetched with them does not excuse it). A train op with no name of its
        own cannot be told apart, so any such run counts."""
        if not runs:
            return False
        target = self._assigned_names().get(id(train_call))
        if target is None:
            return True
        return any(_mentions_name(a.value, target) for run in runs for a in run.args)

    def _grouped_with_updates(self, train_call: cst.Call) -> bool:
        """The train op's variable is grouped with, or made a dependency of, the update ops."""
        target = self._assigned_names().get(id(train_call))
        if target is None:
            return False
        for args, under_deps_on in self._grouping_sites():
            if any(_mentions_name(a, target) for a in args) and any(self.mentions_updates(a) for a in args):
                return True  # tf.group(train_op, *update_ops)
            if any(_mentions_name(a, target) for dep_args in under_deps_on for a in dep_args) \
                    and any(self.mentions_updates(a) for a in args):
                return True  # with control_dependencies([train_op]): tf.group(update_ops)
        return False

    def _grouping_sites(self) -> List[tuple]:
        """Every group/tuple/control_dependencies call, with the arguments of
        the control_dependencies blocks around it; one pass, kept."""
        cached = self.__dict__.get("_grouping_cache")
        if cached is not None:
            return cached
        sites: List[tuple] = []

        class _V(cst.CSTVisitor):
            def __init__(self) -> None:
                self.deps: List[List[cst.BaseExpression]] = []

            def visit_Call(self, node: cst.Call) -> None:
                name = node.func.attr.value if isinstance(node.func, cst.Attribute) else (
                    node.func.value if isinstance(node.func, cst.Name) else "")
                if name in ("group", "tuple", "control_dependencies"):
                    sites.append(([a.value for a in node.args], list(self.deps) if name == "group" else []))

            def visit_With(self, node: cst.With) -> None:
                args = []
                for item in node.items:
                    call = item.item
                    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
                            and call.func.attr.value == "control_dependencies":
                        args += [a.value for a in call.args]
                self.deps.append(args)

            def leave_With(self, node: cst.With) -> None:
                self.deps.pop()

        self.ctx.module.visit(_V())
        self.__dict__["_grouping_cache"] = sites
        return sites

    def _assigned_names(self) -> Dict[int, str]:
        """id(call) -> the name it is assigned to (`train_op = opt.minimize(...)`)."""
        cached = self.__dict__.get("_assigned_cache")
        if cached is not None:
            return cached
        names: Dict[int, str] = {}

        class _V(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                if len(node.targets) == 1:
                    text = dotted(node.targets[0].target)
                    if text:
                        names[id(node.value)] = text

        self.ctx.module.visit(_V())
        self.__dict__["_assigned_cache"] = names
        return names

_NAMES_CACHE: Dict[int, tuple] = {}


def _names_in(expr: cst.BaseExpression) -> Set[str]:
    """Every name and dotted name an expression uses (`a`, `self.b`, `self`)."""
    found: Set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            text = dotted(node)
            if text:
                found.add(text)

        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    expr.visit(_V())
    return found


def _mentions_name(expr: cst.BaseExpression, name: str) -> bool:
    cached = _NAMES_CACHE.get(id(expr))
    if cached is None or cached[0] is not expr:
        cached = (expr, frozenset(_names_in(expr)))
        _NAMES_CACHE[id(expr)] = cached
        if len(_NAMES_CACHE) > 50000:
            _NAMES_CACHE.clear()
    return name in cached[1]


def _conjuncts(test: cst.BaseExpression) -> List[cst.BaseExpression]:
    """`A and B and C` -> [A, B, C]; anything else -> [test]."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _conjuncts(test.left) + _conjuncts(test.right)
    return [test]
