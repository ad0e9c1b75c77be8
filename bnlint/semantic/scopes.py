"""Scopes and bindings of one module, built from one `ast` tree.

Modelled on pyflakes' checker (a scope stack, one binding per name and
statement) and ruff's semantic model (binding kinds, lookups at a point),
written for bnlint's questions:

- Scopes: module, class, function, lambda and comprehension. A class body
  is invisible to the functions defined in it (Python's rule); `global` and
  `nonlocal` send a function's bindings to the module or the enclosing
  function.
- Bindings keep their kind (import, argument, assignment, definition,
  other: a loop target, `with ... as`, an unpacked tuple) and their place
  in source order. `lookup(name, scope, at)` gives the bindings that may be
  in force at `at`: in the same scope the last one written before it (and
  earlier ones that a branch may have skipped); from a nested function,
  which runs later, every binding of the enclosing scope.
- Per function: parameters with their defaults, calls in source order,
  returned expressions. Per class: bases, methods, `self.x = ...` values.

Positions are `ast`'s: lines 1-based, columns 0-based UTF-8 byte offsets.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from enum import Enum
from typing import Dict, List, Optional, Set, Tuple

from ..gcpause import paused

Pos = Tuple[int, int]  # (line 1-based, column in UTF-8 bytes)
_END: Pos = (1 << 30, 0)


class ScopeKind(Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


class BindingKind(Enum):
    IMPORT = "import"  # import a.b as c / from m import n
    STAR_IMPORT = "star-import"
    ARGUMENT = "argument"
    ASSIGNMENT = "assignment"  # name = value (one name, one value)
    DEFINITION = "definition"  # def / class
    OTHER = "other"  # for-target, with-as, unpacking, augmented, except-as, walrus in a tuple


@dataclass(eq=False)
class Binding:
    """One binding of `name` in `scope`.

    `value`: the assigned expression (ASSIGNMENT) or the default
    (ARGUMENT); `qualified`: the dotted module path an IMPORT stands for
    (`import a.b as c` -> "a.b"; `import a.b` binds "a" -> "a"; `from m
    import n` -> "m.n"; relative imports keep their dots); `defines`: the
    Scope a DEFINITION creates. `pos` is where the binding takes effect
    (the end of its statement) and `blocks` the compound statements around
    it inside its scope, outermost first."""

    name: str
    kind: BindingKind
    scope: "Scope"
    node: ast.AST
    pos: Pos
    blocks: Tuple[ast.AST, ...] = ()
    value: Optional[ast.AST] = None
    qualified: Optional[str] = None
    defines: Optional["Scope"] = None


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    node: ast.AST
    parent: Optional["Scope"]
    name: str = ""
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)
    globals: Set[str] = field(default_factory=set)
    nonlocals: Set[str] = field(default_factory=set)
    children: List["Scope"] = field(default_factory=list)
    # functions (and lambdas)
    params: Dict[str, Optional[ast.AST]] = field(default_factory=dict)  # name -> default
    returns: List[ast.AST] = field(default_factory=list)
    # functions and the module: calls written directly in this scope, in
    # source order (a call before the calls in its arguments)
    calls: List[ast.Call] = field(default_factory=list)
    cls: Optional["Scope"] = None  # the nearest enclosing class (methods and what they nest)
    # classes
    bases: List[ast.AST] = field(default_factory=list)
    methods: Dict[str, "Scope"] = field(default_factory=dict)
    self_assigns: Dict[str, List[Tuple[ast.AST, "Scope"]]] = field(default_factory=dict)

    def __hash__(self) -> int:
        return id(self)

    @property
    def is_function(self) -> bool:
        return self.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA)

    @property
    def function(self) -> Optional["Scope"]:
        """The nearest `def` scope, this one included, through lambdas and
        comprehensions (None at module or class level)."""
        s: Optional[Scope] = self
        while s is not None and s.kind is not ScopeKind.FUNCTION:
            if s.kind in (ScopeKind.MODULE, ScopeKind.CLASS):
                return None
            s = s.parent
        return s

    def assigned(self, name: str) -> List[ast.AST]:
        """Values of the plain `name = value` bindings of this scope."""
        return [b.value for b in self.bindings.get(name, ()) if b.kind is BindingKind.ASSIGNMENT]


_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _end(node: ast.AST) -> Pos:
    return (getattr(node, "end_lineno", None) or node.lineno, getattr(node, "end_col_offset", None) or 0)


def start(node: ast.AST) -> Pos:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


@dataclass
class CallSite:
    """Where a call is written: its scope, the `with` statements around it
    in that function (innermost last) and the `if` tests it sits under
    ((test, True) in the body, (test, False) in the else)."""

    call: ast.Call
    scope: Scope
    withs: Tuple[ast.AST, ...]
    guards: Tuple[Tuple[ast.AST, bool], ...]
    blocks: Tuple[ast.AST, ...] = ()


class Scopes:
    """The scope tree of one module; see the module docstring."""

    def __init__(self, tree: ast.Module, watch_attrs: frozenset = frozenset()) -> None:
        """`watch_attrs`: attribute names whose uses (`x.fit`) are recorded in `watched`."""
        self.tree = tree
        self.watch_attrs = watch_attrs
        self.watched: List[ast.Attribute] = []
        self.module = Scope(ScopeKind.MODULE, tree, None)
        self.scope_of_node: Dict[int, Scope] = {}  # id(def/class/lambda/comprehension) -> its scope
        self.sites: List[CallSite] = []  # every call, source order
        self.site_of: Dict[int, CallSite] = {}
        self.classes: List[Scope] = []
        self.functions: List[Scope] = []
        self.withs: List[Tuple[ast.AST, Scope]] = []  # every with, and its scope
        self.assigns: List[Tuple[ast.AST, ast.AST, Scope]] = []  # (target, value, scope), any target
        self.attr_names: Set[str] = set()  # every `.attr` written
        self.name_ctx: Dict[int, tuple] = {}  # id(Name read) -> (scope, blocks) where it is read
        self.star_modules: List[str] = []
        self.imported: List[str] = []  # every module path imported (raw)
        with paused():
            _Builder(self).run()

    # -- lookups -------------------------------------------------------------
    def lookup(self, name: str, scope: Scope, at: Optional[Pos] = None,
               blocks: Tuple[ast.AST, ...] = ()) -> List[Binding]:
        """The bindings of `name` that may be in force where `scope` reads it
        at `at` (None: anywhere in the scope, e.g. when it returns). Most
        recent first; [] when nothing binds it (a builtin, an undefined name)."""
        s: Optional[Scope] = scope
        first = True
        while s is not None:
            if name in s.globals and s is not self.module:
                return list(reversed(self.module.bindings.get(name, [])))
            found = s.bindings.get(name)
            if found:
                if first and at is not None:
                    return _in_force(found, at, blocks)
                return list(reversed(found))
            if s.kind is ScopeKind.COMPREHENSION:
                s = s.parent  # a comprehension runs where it is written
                continue
            nxt = s.parent
            while nxt is not None and nxt.kind is ScopeKind.CLASS:
                nxt = nxt.parent  # a class body is invisible to nested functions
            s, first = nxt, False
        return []


def _in_force(found: List[Binding], at: Pos, blocks: Tuple[ast.AST, ...]) -> List[Binding]:
    """Most recent first: bindings written before `at`, back to the first
    one that certainly ran (not in a branch that does not hold `at`)."""
    holding = {id(b) for b in blocks}
    before = [b for b in found if b.pos <= at]
    # a loop body runs again: its later bindings reach back to its top
    out: List[Binding] = [b for b in reversed(found) if b.pos > at and any(
        id(block) in holding and isinstance(block, _LOOPS) for block in b.blocks)]
    for b in reversed(before):
        out.append(b)
        if all(id(block) in holding for block in b.blocks):
            break
    return out


class _Builder:
    """One pass over the tree; fills a Scopes."""

    def __init__(self, scopes: Scopes) -> None:
        self.s = scopes
        self.scope = scopes.module
        self.blocks: List[ast.AST] = []  # compound statements around, in this scope
        self.withs: List[ast.AST] = []
        self.guards: List[Tuple[ast.AST, bool]] = []

    def run(self) -> None:
        # Function bodies are walked where they are written: lookups compare
        # absolute positions, and a lookup from a nested function sees every
        # binding of the enclosing scope (it runs later; pyflakes defers it).
        self.body(self.s.tree.body)

    # -- binding ---------------------------------------------------------------
    def bind(self, name: str, kind: BindingKind, node: ast.AST, pos: Pos, value=None,
             qualified=None, defines=None) -> Binding:
        scope = self.scope
        if name in scope.globals:
            scope = self.s.module
        elif name in scope.nonlocals:
            up = scope.parent
            while up is not None and not (up.is_function and name in up.bindings):
                up = up.parent
            scope = up or scope
        blocks = tuple(self.blocks) if scope is self.scope else ()
        binding = Binding(name, kind, scope, node, pos, blocks, value, qualified, defines)
        scope.bindings.setdefault(name, []).append(binding)
        return binding

    def bind_target(self, target: ast.AST, value: Optional[ast.AST], stmt: ast.AST) -> None:
        pos = _end(stmt)
        if isinstance(target, ast.Name):
            kind = BindingKind.ASSIGNMENT if value is not None else BindingKind.OTHER
            self.bind(target.id, kind, target, pos, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self.bind_target(el, None, stmt)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, None, stmt)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                and target.value.id == "self" and value is not None:
            fn = self.scope
            cls = fn.cls if fn.is_function else None
            if cls is not None:
                cls.self_assigns.setdefault(target.attr, []).append((value, fn))
            self.expr(target)
            return
        else:
            self.expr(target)  # a[i] = ..., obj.x = ...: reads a / obj

    # -- statements ------------------------------------------------------------
    def body(self, stmts) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def block(self, owner: ast.AST, stmts) -> None:
        self.blocks.append(owner)
        self.body(stmts)
        self.blocks.pop()

    def stmt(self, node: ast.AST) -> None:
        t = type(node)
        if t is ast.Expr:
            self.expr(node.value)
        elif t is ast.Assign:
            self.expr(node.value)
            single = len(node.targets) == 1
            for target in node.targets:
                self.s.assigns.append((target, node.value, self.scope))
                self.bind_target(target, node.value if single or isinstance(target, ast.Name) else None, node)
        elif t is ast.AnnAssign:
            self.expr(node.annotation)
            if node.value is not None:
                self.expr(node.value)
                self.s.assigns.append((node.target, node.value, self.scope))
                self.bind_target(node.target, node.value, node)
            elif not isinstance(node.target, ast.Name):
                self.expr(node.target)
        elif t is ast.AugAssign:
            self.expr(node.value)
            self.s.assigns.append((node.target, node.value, self.scope))
            if isinstance(node.target, ast.Name):
                self.bind(node.target.id, BindingKind.OTHER, node.target, _end(node))
            else:
                self.expr(node.target)
        elif t in _FUNCS:
            self.function_def(node)
        elif t is ast.ClassDef:
            self.class_def(node)
        elif t is ast.Return:
            if node.value is not None:
                self.expr(node.value)
                if self.scope.is_function:
                    self.scope.returns.append(node.value)
        elif t is ast.Import:
            for alias in node.names:
                self.s.imported.append(alias.name)
                if alias.asname:
                    self.bind(alias.asname, BindingKind.IMPORT, alias, _end(node), qualified=alias.name)
                else:
                    root = alias.name.split(".")[0]
                    self.bind(root, BindingKind.IMPORT, alias, _end(node), qualified=root)
        elif t is ast.ImportFrom:
            module = "." * (node.level or 0) + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    self.s.star_modules.append(module)
                    self.s.imported.append(module)
                    continue
                full = f"{module}.{alias.name}" if module and not module.endswith(".") else module + alias.name
                self.s.imported.append(full)
                self.bind(alias.asname or alias.name, BindingKind.IMPORT, alias, _end(node), qualified=full)
        elif t is ast.Global:
            self.scope.globals.update(node.names)
        elif t is ast.Nonlocal:
            self.scope.nonlocals.update(node.names)
        elif t in (ast.For, ast.AsyncFor):
            self.expr(node.iter)
            self.blocks.append(node)
            self.bind_target(node.target, None, node.target)
            self.body(node.body)
            self.body(node.orelse)
            self.blocks.pop()
        elif t is ast.While:
            self.expr(node.test)
            self.block(node, node.body)
            self.block(node, node.orelse)
        elif t is ast.If:
            # an `elif` chain is walked as a loop (400 elifs are valid Python)
            depth = 0
            while True:
                self.expr(node.test)
                self.guards.append((node.test, True))
                self.block(node, node.body)
                self.guards[-1] = (node.test, False)
                depth += 1
                orelse = node.orelse
                if len(orelse) == 1 and isinstance(orelse[0], ast.If):
                    node = orelse[0]
                    self.blocks.append(node)  # the else branch of the previous test
                    continue
                # the else branch: its first statement stands for it
                self.block(orelse[0] if orelse else node, orelse)
                break
            del self.guards[-depth:]
            del self.blocks[len(self.blocks) - (depth - 1):]
        elif t in (ast.With, ast.AsyncWith):
            self.s.withs.append((node, self.scope))
            for item in node.items:
                self.expr(item.context_expr)
            self.withs.append(node)
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind_target(item.optional_vars, None, item.optional_vars)
            self.body(node.body)  # a with body always runs: not a branch
            self.withs.pop()
        elif t is ast.Try or t is getattr(ast, "TryStar", None):
            self.block(node, node.body)
            for handler in node.handlers:
                if handler.type is not None:
                    self.expr(handler.type)
                self.blocks.append(handler)
                if handler.name:
                    self.bind(handler.name, BindingKind.OTHER, handler, (handler.lineno, handler.col_offset))
                self.body(handler.body)
                self.blocks.pop()
            self.block(node.orelse[0] if node.orelse else node, node.orelse)
            self.body(node.finalbody)
        elif t is getattr(ast, "Match", None):
            self.expr(node.subject)
            for case in node.cases:
                self.blocks.append(case)
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(name, str):
                        self.bind(name, BindingKind.OTHER, sub, _end(case.pattern))
                if case.guard is not None:
                    self.expr(case.guard)
                self.body(case.body)
                self.blocks.pop()
        elif t is getattr(ast, "TypeAlias", None):
            self.bind(node.name.id, BindingKind.OTHER, node, _end(node))
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
                elif isinstance(child, ast.stmt):
                    self.stmt(child)

    def _new_scope(self, kind: ScopeKind, node: ast.AST, name: str = "") -> Scope:
        parent = self.scope
        scope = Scope(kind, node, parent, name)
        scope.cls = parent if parent.kind is ScopeKind.CLASS else parent.cls
        parent.children.append(scope)
        self.s.scope_of_node[id(node)] = scope
        return scope

    def function_def(self, node: ast.AST) -> None:
        for deco in node.decorator_list:
            self.expr(deco)
        self._arguments_outside(node.args)
        if node.returns is not None:
            self.expr(node.returns)
        scope = self._new_scope(ScopeKind.FUNCTION, node, node.name)
        owner = self.scope
        if owner.kind is ScopeKind.CLASS:
            owner.methods[node.name] = scope  # the last def wins, as in Python
        self.s.functions.append(scope)
        self.bind(node.name, BindingKind.DEFINITION, node, _end(node), defines=scope)
        self._params(scope, node.args)
        self._function_body(scope, node.body)

    def _function_body(self, scope: Scope, body) -> None:
        saved = (self.scope, self.blocks, self.withs, self.guards)
        # a def inside a with block does not run there; a lambda written
        # there usually does (tf.map_fn(lambda x: model(x), xs))
        withs = self.withs if scope.kind is ScopeKind.LAMBDA else []
        # `if` tests stay: a def under `if use_bn:` is built only then
        self.scope, self.blocks, self.withs, self.guards = scope, [], withs, list(self.guards)
        if isinstance(body, list):
            self.body(body)
        else:  # a lambda
            self.expr(body)
            scope.returns.append(body)
        self.scope, self.blocks, self.withs, self.guards = saved

    def _arguments_outside(self, args: ast.arguments) -> None:
        """Defaults and annotations are evaluated where the def is written."""
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            self.expr(default)
        for a in args.posonlyargs + args.args + args.kwonlyargs + [x for x in (args.vararg, args.kwarg) if x]:
            if a.annotation is not None:
                self.expr(a.annotation)

    def _params(self, scope: Scope, args: ast.arguments) -> None:
        positional = args.posonlyargs + args.args
        defaults: List[Optional[ast.AST]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pos = (scope.node.lineno, scope.node.col_offset)
        saved = self.scope
        self.scope = scope
        for a, d in zip(positional, defaults):
            scope.params[a.arg] = d
            self.bind(a.arg, BindingKind.ARGUMENT, a, pos, d)
        if args.vararg is not None:
            scope.params[args.vararg.arg] = None
            self.bind(args.vararg.arg, BindingKind.ARGUMENT, args.vararg, pos)
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            scope.params[a.arg] = d
            self.bind(a.arg, BindingKind.ARGUMENT, a, pos, d)
        if args.kwarg is not None:
            scope.params[args.kwarg.arg] = None
            self.bind(args.kwarg.arg, BindingKind.ARGUMENT, args.kwarg, pos)
        self.scope = saved

    def class_def(self, node: ast.ClassDef) -> None:
        for deco in node.decorator_list:
            self.expr(deco)
        for base in node.bases:
            self.expr(base)
        for kw in node.keywords:
            self.expr(kw.value)
        scope = self._new_scope(ScopeKind.CLASS, node, node.name)
        scope.bases = list(node.bases)
        self.s.classes.append(scope)
        saved = (self.scope, self.blocks)
        self.scope, self.blocks = scope, []
        self.body(node.body)
        self.scope, self.blocks = saved
        self.bind(node.name, BindingKind.DEFINITION, node, _end(node), defines=scope)

    # -- expressions -----------------------------------------------------------
    def expr(self, node: ast.AST) -> None:
        """Expressions: an explicit stack (deep nesting does not recurse)."""
        stack = [node]
        while stack:
            n = stack.pop()
            t = type(n)
            if t is ast.Name:
                self.s.name_ctx[id(n)] = (self.scope, tuple(self.blocks))
                continue
            if t is ast.Call:
                site = CallSite(n, self.scope, tuple(self.withs), tuple(self.guards), tuple(self.blocks))
                self.s.sites.append(site)
                self.s.site_of[id(n)] = site
                self.scope.calls.append(n)
                kids = [n.func] + list(n.args) + [k.value for k in n.keywords]
                stack.extend(reversed(kids))
                continue
            if t is ast.Attribute:
                self.s.attr_names.add(n.attr)
                if n.attr in self.s.watch_attrs:
                    self.s.watched.append(n)
                stack.append(n.value)
                continue
            if t is ast.Lambda:
                self._arguments_outside(n.args)
                scope = self._new_scope(ScopeKind.LAMBDA, n)
                self._params(scope, n.args)
                self._function_body(scope, n.body)
                self._hoist(scope)
                continue
            if t in _COMPS:
                self.comprehension(n)
                continue
            if t is ast.NamedExpr:
                self.expr(n.value)
                target = self.scope
                while target.kind is ScopeKind.COMPREHENSION and target.parent is not None:
                    target = target.parent
                saved, self.scope = self.scope, target
                self.bind(n.target.id, BindingKind.ASSIGNMENT, n.target, _end(n), n.value)
                self.scope = saved
                continue
            if t in (ast.Constant,):
                continue
            stack.extend(reversed(list(ast.iter_child_nodes(n))))

    def comprehension(self, node: ast.AST) -> None:
        gens = node.generators
        self.expr(gens[0].iter)  # the first iterable is evaluated outside
        scope = self._new_scope(ScopeKind.COMPREHENSION, node)
        saved = self.scope
        self.scope = scope
        for i, gen in enumerate(gens):
            if i:
                self.expr(gen.iter)
            self.bind_target(gen.target, None, gen.target)
            for cond in gen.ifs:
                self.expr(cond)
        if isinstance(node, ast.DictComp):
            self.expr(node.key)
            self.expr(node.value)
        else:
            self.expr(node.elt)
        self.scope = saved
        self._hoist(scope)

    def _hoist(self, scope: Scope) -> None:
        """Calls in a comprehension or lambda belong to the code around it as well."""
        fn = scope.parent
        while fn.kind in (ScopeKind.COMPREHENSION, ScopeKind.LAMBDA) and fn.parent is not None:
            fn = fn.parent
        fn.calls.extend(scope.calls)
