"""BN112: the training argument of a TF1 builder is a Python bool that the
code changes after the graph is built, before it runs the graph.

`tf.layers.batch_normalization(h, training=self.is_training)` (also slim /
contrib `is_training=`, and the TF1 dropout builders) reads a Python value
once, when it adds the op to the graph. `self.is_training = False` (or a
variable or argument rebound to False) later changes the Python object,
not the graph: every `sess.run` after it still runs the mode the graph was
built with (a Python bool passed as `training` selects one branch at build
time; measured on TF 2.21 + tf_keras, graph mode: `m.is_training = False`
after the build, one sample of 5.0 still normalises to 0.0).

Reported at the assignment that changes the flag, when all of these hold
(precision first; each is a test in rules/BN112.yaml):
- the builder's argument is a name or `self.<attr>` (followed up through
  parameters of the file's functions, by the semantic call graph) whose
  every assignment in the file is a bool literal (an `__init__` parameter
  counts when every construction passes a bool literal or keeps a bool
  default), so it is never a tensor;
- the value in force when the graph is built is one known bool, and the
  assignment gives the other one;
- the assignment is written after the graph is built: in the same scope
  after the call that builds it (not in a loop that builds it again), in
  another method of the class, or on an instance of the class (a name
  bound to `Cls(...)`, or a parameter every call of whose function passes one);
- after it, in the same function, the graph is run (`x.run(...)`,
  `t.eval(...)`, or a call of the file's own function that does), and no
  call in between builds the graph again (a function or method that leads
  to the builder, or the class itself).
No fix: whether the graph should have an is-training placeholder or be
built twice (train and eval, `reuse=True`) is the user's design.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from enum import Enum
from typing import List, Optional, Set, Tuple

from ..semantic.callgraph import bound_argument
from ..semantic.scopes import BindingKind, Scope, ScopeKind, start
from .base import Rule, kwarg, last, words
from .tables import family_tables, tf1_mode_arguments

_MAX_UP = 3  # caller levels followed from a builder's parameter to the flag
_MAX_CALLERS = 6  # caller levels that count as building the graph again


class Variant(Enum):
    DEFAULT = "default"


@dataclass(frozen=True)
class _Origin:
    """A flag the graph is built with: a name of `scope` or an attribute
    of the instances of class `scope`; `via`: the call in the flag's scope
    through which the builder runs; `built`: the value in force there."""

    kind: str  # "name" | "attr"
    scope: Scope
    name: str
    via: ast.Call
    built: bool


def _bool(node: Optional[ast.AST]) -> Optional[bool]:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return None


def _spread(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def _owner(scope: Scope) -> Optional[Scope]:
    """The function (or the module) whose body runs a statement of `scope`."""
    s: Optional[Scope] = scope
    while s is not None and s.kind in (ScopeKind.LAMBDA, ScopeKind.COMPREHENSION):
        s = s.parent
    if s is None or s.kind is ScopeKind.CLASS:
        return None
    return s


class FrozenTrainingFlag(Rule):
    code = "BN112"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        runs = family_tables(api).graph_run_methods
        args = {arg for arg in tf1_mode_arguments(api).values()}
        return (re.compile(words({last(n) for n in tf1_mode_arguments(api)})),
                # the training argument given a name, not a literal
                re.compile(b"(?:" + words(args) + rb")[ \t]*=[ \t]*(?!True\b|False\b|None\b)[A-Za-z_]"),
                re.compile(rb"=[ \t]*(?:True|False)\b"),
                re.compile(rb"\.[ \t]*(?:" + words(runs) + rb")[ \t]*\("))

    def check(self) -> None:
        ctx = self.ctx
        modes = tf1_mode_arguments(ctx.api)
        self.graph = ctx.values.graph
        self.runs = family_tables(ctx.api).graph_run_methods
        done: Set[int] = set()
        for site in ctx.scopes.sites:
            q = ctx.values.qualify(site.call.func)
            arg = modes.get(q) if q else None
            kw = kwarg(site.call, arg) if arg else None
            if kw is None:
                continue
            builders = self._building(site.scope)
            for origin in self._origins(kw.value, site.scope, site.call, 0):
                for flip, value, where in self._flips(origin):
                    if id(flip) in done:
                        continue
                    run = self._run_after(flip, where, builders, origin)
                    if run is None:
                        continue
                    done.add(id(flip))
                    flag = ctx.segment(flip)
                    self.report(flip, Variant.DEFAULT, flag=flag, value=value,
                                mode="training" if origin.built else "inference",
                                line=self.line_of(origin.via), builder=last(q), arg=arg,
                                run_line=self.line_of(run))

    # -- where the flag comes from -------------------------------------------
    def _origins(self, expr: ast.AST, scope: Scope, via: ast.Call, depth: int) -> List[_Origin]:
        if isinstance(expr, ast.Name):
            return self._name_origins(expr, scope, via, depth)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self" \
                and scope.cls is not None:
            built = self._attr_built(scope.cls, expr.attr)
            return [] if built is None else [_Origin("attr", scope.cls, expr.attr, via, built)]
        return []

    def _name_origins(self, name: ast.Name, scope: Scope, via: ast.Call, depth: int) -> List[_Origin]:
        found = self.ctx.names.bindings_of(name)
        if not found:
            return []
        owner = found[0].scope
        if any(b.scope is not owner for b in found) or owner.kind is ScopeKind.CLASS:
            return []
        every = owner.bindings.get(name.id, [])
        if owner.is_function and all(b.kind is BindingKind.ARGUMENT for b in every):
            # a parameter never rebound: the flag is whatever the callers pass
            if depth >= _MAX_UP:
                return []
            out: List[_Origin] = []
            for call, cscope in self.graph.callers(owner):
                if _spread(call):
                    return []
                value = bound_argument(call, owner, name.id)
                if value is not None:
                    out += self._origins(value, cscope, call, depth + 1)
            return out
        values: Set[bool] = set()
        for b in every:
            got = self._binding_values(b)
            if got is None:
                return []  # may hold a tensor, or anything
            if b in found:
                values |= got
        if len(values) != 1:
            return []
        return [_Origin("name", owner, name.id, via, values.pop())]

    def _binding_values(self, b) -> Optional[Set[bool]]:
        """The bool values a binding can give, None when one may not be a bool."""
        if b.kind is BindingKind.ASSIGNMENT:
            v = _bool(b.value)
            return None if v is None else {v}
        if b.kind is BindingKind.ARGUMENT and b.scope.is_function:
            return self._param_values(b.scope, b.name)
        return None

    def _param_values(self, fn: Scope, param: str) -> Optional[Set[bool]]:
        default = _bool(fn.params.get(param))
        out: Set[bool] = set()
        callers = self.graph.callers(fn)
        if fn.name == "__init__" and fn.parent is not None and fn.parent.kind is ScopeKind.CLASS:
            callers = callers + self.graph.callers(fn.parent)
        if not callers:
            return None if default is None else {default}
        for call, _ in callers:
            if _spread(call):
                return None
            value = bound_argument(call, fn, param)
            got = default if value is None else _bool(value)
            if got is None:
                return None
            out.add(got)
        return out

    def _attr_values(self, cls: Scope, attr: str) -> Optional[List[Tuple[Set[bool], Scope]]]:
        """(values, method) for each `self.<attr> = ...` of the class, None
        when one of them may not be a bool."""
        out = []
        for value, fn in cls.self_assigns.get(attr, ()):
            got = _bool(value)
            if got is not None:
                out.append(({got}, fn))
                continue
            if isinstance(value, ast.Name) and fn.is_function and fn.name == "__init__" \
                    and all(b.kind is BindingKind.ARGUMENT for b in fn.bindings.get(value.id, [None])):
                got_set = self._param_values(fn, value.id)
                if got_set:
                    out.append((got_set, fn))
                    continue
            return None
        return out

    def _attr_built(self, cls: Scope, attr: str) -> Optional[bool]:
        """The one value `__init__` gives `self.<attr>`, when every value
        the class gives it is a bool."""
        found = self._attr_values(cls, attr)
        if not found:
            return None
        built: Set[bool] = set()
        for values, fn in found:
            if fn.name == "__init__":
                built |= values
        return built.pop() if len(built) == 1 else None

    # -- where it changes -------------------------------------------------------
    def _flips(self, origin: _Origin) -> List[Tuple[ast.AST, bool, Scope]]:
        """(target node, value, function or module it is written in) of each
        assignment that gives the flag the other value after the build."""
        out = []
        if origin.kind == "name":
            via_site = self.ctx.scopes.site_of.get(id(origin.via))
            loops = {id(b) for b in (via_site.blocks if via_site else ())
                     if isinstance(b, (ast.For, ast.AsyncFor, ast.While))}
            for b in origin.scope.bindings.get(origin.name, ()):
                if b.kind is not BindingKind.ASSIGNMENT or _bool(b.value) is None or _bool(b.value) == origin.built:
                    continue
                if b.pos <= start(origin.via) or any(id(x) in loops for x in b.blocks):
                    continue  # before the build, or in a loop that builds again
                out.append((b.node, _bool(b.value), origin.scope))
            return out
        cls = origin.scope
        for target, value, scope in self.ctx.scopes.assigns:
            v = _bool(value)
            if v is None or v == origin.built or not isinstance(target, ast.Attribute) \
                    or target.attr != origin.name or not isinstance(target.value, ast.Name):
                continue
            where = _owner(scope)
            if where is None:
                continue
            if target.value.id == "self":
                if scope.cls is cls and where.name != "__init__":
                    out.append((target, v, where))
            elif self._instance_of(target.value, cls):
                out.append((target, v, where))
        return out

    def _instance_of(self, name: ast.Name, cls: Scope, depth: int = 0) -> bool:
        """Is every binding of `name` where it is read an instance of `cls`:
        `gan = GAN()`, or a parameter (without default) of a function of
        this file every call of which passes such an instance (`def
        sample(sess, gan): gan.phase_train = False`, called `sample(sess,
        gan)`), up to two functions up?"""
        found = self.ctx.names.bindings_of(name)
        if not found:
            return False
        for b in found:
            if b.kind is BindingKind.ASSIGNMENT and isinstance(b.value, ast.Call) \
                    and self.ctx.values.definition(b.value.func) is cls:
                continue
            fn = b.scope
            if b.kind is not BindingKind.ARGUMENT or b.value is not None or depth >= 2 or not fn.is_function:
                return False
            callers = self.graph.callers(fn)
            if not callers:
                return False
            for call, _ in callers:
                value = None if _spread(call) else bound_argument(call, fn, b.name)
                if not isinstance(value, ast.Name) or not self._instance_of(value, cls, depth + 1):
                    return False
        return True

    # -- what builds the graph, and what runs it ----------------------------------
    def _building(self, scope: Scope) -> Tuple[Set[int], Set[str]]:
        """(ids of the functions and classes whose call runs this builder
        site, their names): the site's function and its callers."""
        fn = scope.function
        ids: Set[int] = set()
        names: Set[str] = set()
        frontier = [fn] if fn is not None else []
        depth = 0
        while frontier and depth < _MAX_CALLERS:
            nxt = []
            for f in frontier:
                if id(f) in ids:
                    continue
                ids.add(id(f))
                names.add(f.name)
                if f.name == "__init__" and f.parent is not None and f.parent.kind is ScopeKind.CLASS:
                    ids.add(id(f.parent))
                    names.add(f.parent.name)
                    nxt += [s.function for _, s in self.graph.callers(f.parent) if s.function is not None]
                nxt += [s.function for _, s in self.graph.callers(f) if s.function is not None]
            frontier, depth = nxt, depth + 1
        return ids, names

    def _rebuilds(self, site, builders: Tuple[Set[int], Set[str]]) -> bool:
        ids, names = builders
        target = self.graph.target(site)
        if target is not None:
            return id(target) in ids
        func = site.call.func
        if isinstance(func, ast.Attribute) and func.attr in names:
            return True  # obj.build(): a method of that name builds it
        q = self.ctx.values.qualify(func)
        return q is not None and q in tf1_mode_arguments(self.ctx.api)

    def _is_run(self, call: ast.Call) -> bool:
        """`sess.run(fetches)`, `op.run(feed_dict=...)`, `t.eval()`; not a
        module's function (`tf.app.run(main)`)."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in self.runs):
            return False
        if func.attr == "run" and not (call.args or call.keywords):
            return False
        return self.ctx.names.raw(func) is None

    def _runs(self, site) -> bool:
        if self._is_run(site.call):
            return True
        target = self.graph.target(site)
        return target is not None and target.is_function and any(self._is_run(c) for c in target.calls)

    def _run_after(self, flip: ast.AST, where: Scope, builders, origin: _Origin) -> Optional[ast.Call]:
        """The first call in `where` after `flip` that runs the graph, when
        nothing between them builds it again."""
        at = start(flip)
        for site in self.ctx.scopes.sites:
            if _owner(site.scope) is not where or start(site.call) <= at:
                continue
            if site.call is origin.via or self._rebuilds(site, builders):
                return None
            if self._runs(site):
                return site.call
        return None
