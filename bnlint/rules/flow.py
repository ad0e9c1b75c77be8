"""Where a value goes, by names: does the result of one call reach the
arguments of another (a train op, an EstimatorSpec)?

Used by the BN1xx rules that only speak when a layer's output is trained
(precision: a layer built for an evaluation graph is not a finding).
A value travels through plain assignments (`h = f(x)`, `a, b = ...`,
`self.logits = ...` across the methods of a class, module names read from
functions), into the call of the user's function that returns it (up to
four returns deep), into a container filled in place (`losses.append(v)`,
`self.d_loss.append(v)`: the container then holds it), and into any
expression that mentions it. It does not travel through attributes of
other objects than `self`, or other modules. Keys are (scope, name) pairs resolved
through the semantic model's bindings, so two functions' `x` stay apart.
"""

from __future__ import annotations

import ast
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..semantic.resolve import dotted
from ..semantic.scopes import BindingKind, Scope, ScopeKind

Key = Tuple[object, ...]
_MAX_RETURNS = 4
_FILLERS = ("append", "extend", "insert", "add")  # list/set methods that put a value in the container


class Flow:
    """Name-based value flow over one module (built once per rule run)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.scopes = ctx.scopes
        self._assigns: List[Tuple[Set[Key], Set[Key], Set[int]]] = []  # (targets, reads, node ids)
        self._values: List[ast.AST] = []  # the value of each entry of _assigns
        self._readers: Dict[Key, List[int]] = {}
        for target, value, scope in self.scopes.assigns:
            self._add(self._targets(target, scope), value, scope)
        for site in self.scopes.sites:  # `losses.append(v)`: the list holds v
            func = site.call.func
            if isinstance(func, ast.Attribute) and func.attr in _FILLERS and site.call.args \
                    and dotted(func.value) is not None:
                self._add(self._targets(func.value, site.scope), site.call.args[-1], site.scope)
        self._value_of: Dict[int, int] = {}  # id(node inside an assigned value) -> assign index, built lazily
        self._ret_by_key: Optional[Dict[Key, List[Scope]]] = None
        self._sink_cache: Dict[int, Tuple[Set[int], Set[Key]]] = {}
        self._ret_by_node: Optional[Dict[int, List[Scope]]] = None

    def _add(self, targets: Set[Key], value: ast.AST, scope: Scope) -> None:
        reads = self.reads(value, scope)
        index = len(self._assigns)
        self._assigns.append((targets, reads, {id(value)}))
        self._values.append(value)
        for key in reads:
            self._readers.setdefault(key, []).append(index)

    # -- keys -------------------------------------------------------------------
    def _name_keys(self, name: ast.Name) -> Set[Key]:
        return {(id(b.scope), name.id) for b in self.ctx.names.bindings_of(name)}

    def reads(self, expr: ast.AST, scope: Optional[Scope]) -> Set[Key]:
        """The keys an expression reads (names, `self.x`, other dotted names)."""
        keys: Set[Key] = set()
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Attribute):
                text = dotted(node)
                if text is not None:
                    keys.add(self._dotted_key(text, scope))
                    if text.startswith("self."):
                        continue
            elif isinstance(node, ast.Name):
                keys |= self._name_keys(node)
                continue
            elif isinstance(node, ast.Lambda):
                continue
            stack.extend(ast.iter_child_nodes(node))
        return keys

    def _dotted_key(self, text: str, scope: Optional[Scope]) -> Key:
        if text.startswith("self.") and scope is not None and scope.cls is not None:
            return ("self", id(scope.cls), text.split(".")[1])
        return ("dotted", text)

    def _targets(self, target: ast.AST, scope: Scope) -> Set[Key]:
        keys: Set[Key] = set()
        if isinstance(target, ast.Name):
            owner = self.scopes.module if target.id in scope.globals else scope
            keys.add((id(owner), target.id))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                keys |= self._targets(el, scope)
        elif isinstance(target, ast.Starred):
            keys |= self._targets(target.value, scope)
        elif isinstance(target, ast.Attribute):
            text = dotted(target)
            if text is not None:
                keys.add(self._dotted_key(text, scope))
        elif isinstance(target, ast.Subscript):
            keys |= self._targets(target.value, scope)  # d[k] = v: d holds v
        return keys

    # -- flow -------------------------------------------------------------------
    def _assign_holding(self, node: ast.AST) -> Optional[int]:
        """The assignment whose value contains `node`."""
        if not self._value_of:
            for index, value in enumerate(self._values):
                for sub in ast.walk(value):
                    self._value_of.setdefault(id(sub), index)
        return self._value_of.get(id(node))

    def tainted(self, source: ast.AST) -> Tuple[Set[Key], Set[int]]:
        """(keys that may hold the value of `source`, ids of the call nodes
        whose result holds it: `source` and calls of functions returning it)."""
        keys: Set[Key] = set()
        nodes: Set[int] = set()
        todo_nodes: List[Tuple[ast.AST, int]] = [(source, 0)]
        todo_keys: List[Key] = []
        returned: Set[int] = set()
        while todo_nodes or todo_keys:
            while todo_nodes:
                node, depth = todo_nodes.pop()
                if id(node) in nodes:
                    continue
                nodes.add(id(node))
                index = self._assign_holding(node)
                if index is not None:
                    for key in self._assigns[index][0]:
                        if key not in keys:
                            keys.add(key)
                            todo_keys.append(key)
                self._follow_return(node, None, depth, todo_nodes, returned)
            while todo_keys:
                key = todo_keys.pop()
                for index in self._readers.get(key, ()):
                    for target in self._assigns[index][0]:
                        if target not in keys:
                            keys.add(target)
                            todo_keys.append(target)
                self._returns_reading(key, todo_nodes, returned)
        return keys, nodes

    def _returns_index(self) -> None:
        """For each function's returns: the keys they read and their node ids."""
        self._ret_by_key: Dict[Key, List[Scope]] = {}
        self._ret_by_node: Dict[int, List[Scope]] = {}
        for fn in self.scopes.functions:
            for r in fn.returns:
                for key in self.reads(r, fn):
                    self._ret_by_key.setdefault(key, []).append(fn)
                for sub in ast.walk(r):
                    self._ret_by_node.setdefault(id(sub), []).append(fn)

    def _callers_hold(self, fns, depth, todo_nodes, returned) -> None:
        for fn in fns:
            if id(fn) in returned:
                continue
            returned.add(id(fn))
            for call, _ in self.ctx.values.graph.callers(fn):
                todo_nodes.append((call, depth + 1))

    def _follow_return(self, node, key, depth, todo_nodes, returned) -> None:
        """A function whose `return` holds the value: its callers' calls do."""
        if depth >= _MAX_RETURNS:
            return
        if self._ret_by_node is None:
            self._returns_index()
        self._callers_hold(self._ret_by_node.get(id(node), ()), depth, todo_nodes, returned)

    def _returns_reading(self, key: Key, todo_nodes, returned) -> None:
        if self._ret_by_key is None:
            self._returns_index()
        self._callers_hold(self._ret_by_key.get(key, ()), 0, todo_nodes, returned)

    def reaches(self, source: ast.AST, sinks: Iterable[Tuple[ast.AST, Optional[Scope]]]) -> Optional[ast.AST]:
        """The first sink expression (with the scope it is written in) that
        may hold the value of `source`, or None."""
        keys, nodes = self.tainted(source)
        for expr, scope in sinks:
            cached = self._sink_cache.get(id(expr))
            if cached is None:
                cached = self._sink_cache[id(expr)] = ({id(sub) for sub in ast.walk(expr)}, self.reads(expr, scope))
            if cached[0] & nodes or keys & cached[1]:
                return expr
        return None


def concrete_data(ctx, expr: ast.AST) -> bool:
    """Is `expr` plainly data, not a symbolic tensor of a model being built:
    a literal, or the result of a non-Keras library call (`np.ones(...)`,
    `tf.random.normal(...)`), directly or through the names bound to it?
    A call of a model on data runs it; on a symbolic tensor it builds a node."""
    todo, seen = [expr], 0
    while todo and seen < 50:
        node = todo.pop()
        seen += 1
        if isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Dict)):
            return True
        if isinstance(node, ast.Call):
            q = ctx.values.qualify(node.func)
            return q is not None and not q.startswith("keras.") and q not in ctx.api.symbolic_inputs
        if isinstance(node, ast.Name):
            found = ctx.names.bindings_of(node)
            if len(found) == 1 and found[0].value is not None and found[0].kind is BindingKind.ASSIGNMENT:
                todo.append(found[0].value)
            elif len(found) == 1 and _loop_over_data(ctx, found[0]):
                return True
    return False


def _loop_over_data(ctx, binding) -> bool:
    """Is `binding` the target of a `for` over something other than a
    literal list or tuple (or a name bound only to one, or a comprehension):
    `for x, y in loader:` yields batches of data, while `for inp in [a, b]`
    may walk the symbolic inputs of a model being built?"""
    if binding.kind is not BindingKind.OTHER or not binding.blocks:
        return False
    loop = binding.blocks[-1]
    if not isinstance(loop, (ast.For, ast.AsyncFor)) or \
            not any(n is binding.node for n in ast.walk(loop.target)):
        return False
    it = loop.iter
    if isinstance(it, ast.Name):
        bound = ctx.names.bindings_of(it)
        if len(bound) == 1 and bound[0].kind is BindingKind.ASSIGNMENT and bound[0].value is not None:
            it = bound[0].value  # else a parameter, an import, several values: not a literal
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("enumerate", "zip") and it.args:
        return all(not isinstance(a, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp, ast.Set))
                   for a in it.args)
    return not isinstance(it, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp, ast.Set, ast.Starred))


def derived_names(ctx, fn: Scope, seeds: Set[str]) -> Set[str]:
    """`seeds` plus the plain names a function assigns (in source order)
    from expressions that read one of them: the names that carry a mode
    flag inside `fn` (`rate = 0.5 if training else 0.0`)."""
    names = set(seeds)
    for target, value, scope in ctx.scopes.assigns:
        s = scope
        while s is not None and s is not fn:
            s = s.parent if s.kind is not ScopeKind.CLASS else None
        if s is None or not isinstance(target, ast.Name):
            continue
        if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(value)):
            names.add(target.id)
    return names


def call_arguments(call: ast.Call) -> List[ast.AST]:
    """Argument expressions of a call, positional then keyword."""
    return [a.value if isinstance(a, ast.Starred) else a for a in call.args] + [k.value for k in call.keywords]


def train_op_sinks(ctx) -> List[Tuple[ast.AST, Scope, ast.Call]]:
    """(argument, scope, call) for every argument of a call that builds a
    TF1 train op or gradients (`opt.minimize(loss)`, `opt.compute_gradients`,
    `apply_gradients`, `tf.gradients`) and of an Estimator spec's `loss=` /
    `train_op=`."""
    from .tables import family_tables

    api = ctx.api
    tables = family_tables(api)
    methods = set(api.train_op_methods) | set(api.gradient_methods)
    out = []
    for site in ctx.scopes.sites:
        call = site.call
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in methods:
            out += [(arg, site.scope, call) for arg in call_arguments(call)]
            continue
        q = ctx.values.qualify(func)
        if q == "tensorflow.gradients":
            out += [(arg, site.scope, call) for arg in call_arguments(call)]
        elif q in tables.estimator_specs:
            out += [(k.value, site.scope, call) for k in call.keywords if k.arg in ("loss", "train_op")]
    return out


def is_graph_code(ctx) -> bool:
    """Does the file call something that only TF1 graph code calls
    (api.yaml `tf1_graph_markers`: a Session, placeholders, an Estimator)?"""
    from .tables import family_tables

    markers = family_tables(ctx.api).tf1_graph_markers
    return any(ctx.values.qualify(site.call.func) in markers for site in ctx.scopes.sites)


def in_keras_call(ctx, scope: Optional[Scope]) -> bool:
    """Is `scope` (or a function it is nested in) the `call` method of a
    Keras class? Sublayer calls there take the outer call's mode."""
    s = scope
    while s is not None:
        if s.is_function and s.name == "call" and s.parent is not None \
                and s.parent.kind is ScopeKind.CLASS and ctx.values.class_kind(s.parent) is not None:
            return True
        s = s.parent
    return False


def train_op_names(ctx, builders: Iterable[str] = ()) -> Set[str]:
    """The last part of every name assigned a train op in the file: a
    `train_op_methods` call (`opt.minimize(loss)`), a `grouping_functions`
    call (`tf.group(...)`), or a call of one of `builders` (qualified
    names, e.g. api.yaml's update-aware builders such as slim's
    `create_train_op`). `self.train_op = ...` gives `train_op`."""
    api = ctx.api
    methods, grouping, builders = set(api.train_op_methods), api.grouping_functions, set(builders)
    names = set()
    for target, value, _ in ctx.scopes.assigns:
        text = dotted(target)
        if text is None or not isinstance(value, ast.Call):
            continue
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr in methods:
            names.add(text.rsplit(".", 1)[-1])
            continue
        q = ctx.values.qualify(func)
        if q in grouping or q in builders:
            names.add(text.rsplit(".", 1)[-1])
    return names
