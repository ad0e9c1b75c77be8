"""Cheap stages before libcst: which rules can possibly fire in a file?

Stage 1 is a byte regex per rule built from the names in rules/api.yaml:
a file that never mentions GradientTape cannot hold a BN001 finding.
Stage 2 runs `ast` (about 10x faster than libcst), resolves imports the way
names.py does, and extracts generic facts: a `with` over a tape whose body
calls something that may be a model, a Keras class whose `call` can lose
the mode, a train op next to a TF1 batch norm builder. Only files with
facts go on to libcst, which then decides exactly.

Every fact is a necessary condition of a rule, never a rule itself: when in
doubt a fact says yes. On keras-team/keras stage 2 keeps 10 of 187 files
(see benchmarks/README.md); tests/test_prefilter.py checks that the
resolver agrees with names.py and that dropping stage 2 changes no finding
on the rule examples.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from .api import Api
from .names import TRACKED_ROOTS, NameResolver, canonical


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _is_true(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_none(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_bool(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, bool)


@dataclass(frozen=True)
class Prefilter:
    api: Api
    patterns: Tuple[Tuple[str, Tuple["re.Pattern[bytes]", ...]], ...]
    sensitive: "re.Pattern[bytes]"
    words: FrozenSet[str] = frozenset()  # the identifiers behind `sensitive`

    def stage1(self, data: bytes, codes: Iterable[str]) -> Set[str]:
        """Codes whose names appear in the raw bytes."""
        out = set()
        for code, pats in self.patterns:
            if code not in codes or not pats[0].search(data):
                continue
            # A mode-sensitive name may also come from a project module that
            # index.py follows (project.py): then the bytes cannot tell.
            if all(p.search(data) for p in pats[1:]) or (code == "BN002" and self.project_import(data)):
                out.add(code)
        return out

    def project_import(self, data: bytes) -> bool:
        """Might the file import a module of the user's own project (one
        whose root is not in api.yaml's clean_libraries)? Any doubt: yes."""
        clean = self.api.clean_libraries
        for m in _IMPORT.finditer(data):
            if m.group(1) is not None:
                names = [m.group(1)]
            else:
                names = [part.split()[0] for part in m.group(2).split(b",") if part.split()]
                if m.group(2).rstrip().endswith(b"\\"):
                    return True
            for name in names:
                root = name.split(b".")[0].decode("ascii", "replace")
                if not root or root not in clean:
                    return True
        return False

    def stage2(self, tree: ast.AST, codes: Set[str], data: bytes, filename: str = "") -> Set[str]:
        """Codes whose structure is present in the parsed file."""
        facts = _Facts(self.api, tree, bool(self.sensitive.search(data)), self.words)
        facts.sensitive = facts.project_modules(filename) or facts.sensitive
        out = set()
        if "BN001" in codes and facts.bn001():
            out.add("BN001")
        if "BN002" in codes and facts.bn002():
            out.add("BN002")
        if "BN003" in codes and facts.bn003():
            out.add("BN003")
        return out


class _Resolver:
    """The import resolution of names.py, filled from an `ast` tree.

    Mirrors `NameResolver.from_module` (every import anywhere, plus
    module-level `tf = tf.compat.v1` aliases) so that a fact such as "this
    `with` is over a GradientTape" is decided on the names the rules see.
    """

    def __init__(self, tree: ast.AST) -> None:
        self.r = NameResolver()
        self.classes: List[ast.ClassDef] = []
        self.withs: List[ast.AST] = []
        self._collect(tree, 0)

    def _collect(self, node: ast.AST, depth: int) -> None:
        """Statements only: imports, classes and `with` cannot be expressions."""
        for child in _child_statements(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    self.r.add_import(alias.name, alias.asname)
            elif isinstance(child, ast.ImportFrom):
                module = "." * child.level + (child.module or "")
                if any(a.name == "*" for a in child.names):
                    self.r.star_modules.add(module)
                    self.r.raw_modules.add(module)
                else:
                    for alias in child.names:
                        self.r.add_from_import(module, alias.name, alias.asname)
            elif isinstance(child, ast.Assign) and depth == 0 and len(child.targets) == 1 \
                    and isinstance(child.targets[0], ast.Name):
                raw = self.raw(child.value)
                if raw is not None and raw.split(".")[0] in TRACKED_ROOTS:
                    self.r.aliases[child.targets[0].id] = raw
            elif isinstance(child, ast.ClassDef):
                self.classes.append(child)
            elif isinstance(child, (ast.With, ast.AsyncWith)):
                self.withs.append(child)
            inner = depth + isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            self._collect(child, inner)

    def raw(self, node: ast.AST) -> Optional[str]:
        name = _dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        base = self.r.aliases.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base


def resolve_names(tree: ast.AST) -> NameResolver:
    """The import table of names.py built from the `ast` tree stage 2 already
    has: the same table (tests/test_prefilter.py checks it) without a libcst
    pass, which costs as much as a second parse."""
    return _Resolver(tree).r


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
# `from X import` / `import X, Y as Z` anywhere (also in strings: more yes).
_IMPORT = re.compile(rb"\bfrom[ \t]+([.\w]*)[ \t\\]*\n?[ \t]*import\b|\bimport[ \t]+([^\n#;()]+)")


# Statements with a body of statements: at module level their header is one
# unit and each statement of the body is another (a class may sit in there).
_COMPOUND = tuple(getattr(ast, name) for name in (
    "If", "Try", "TryStar", "With", "AsyncWith", "For", "AsyncFor", "While", "Match",
    "match_case", "ExceptHandler") if hasattr(ast, name))


def _project_roots(filename: str):
    """name -> is there `name.py` or a folder `name` where project.py looks?
    Without a file on disk (stdin, an editor buffer) any name may be."""
    from .project import ModuleLocator

    try:
        roots = ModuleLocator(filename)._roots() if filename else []
    except (OSError, ValueError):
        roots = []
    if filename and not roots:
        return lambda name: False  # project.py follows nothing for this file
    if not filename:
        return lambda name: True

    def exists(name: str) -> bool:
        return any((root / name).is_dir() or (root / f"{name}.py").is_file() for root in roots)
    return exists


def _mentions(node: ast.AST, shallow: bool = False) -> FrozenSet[str]:
    """Identifiers in a subtree: names, attributes, imported names. With
    `shallow`, a compound statement's own header only (not its body)."""
    if shallow:
        parts = [getattr(node, f) for f in ("test", "target", "iter", "items", "type", "subject", "pattern",
                                            "guard") if hasattr(node, f)]
        nodes = [n for p in parts for n in (p if isinstance(p, list) else [p]) if isinstance(n, ast.AST)]
    else:
        nodes = [node]
    out = set()
    for top in nodes:
        for sub in ast.walk(top):
            if isinstance(sub, ast.Name):
                out.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                out.add(sub.attr)
            elif isinstance(sub, ast.alias):
                out.update(sub.name.split("."))
                if sub.asname:
                    out.add(sub.asname)
    return frozenset(out)


def _bound(node: ast.AST, shallow: bool = False) -> FrozenSet[str]:
    """Names a module-level statement binds, and owners of `x.add(...)`."""
    out = set()
    nodes = [getattr(node, "target", None)] if shallow else [node]
    for top in nodes:
        if top is None:
            continue
        for sub in ast.walk(top):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                out.add(sub.id)
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "add":
                root = _dotted(sub.func.value)
                if root:
                    out.add(root.split(".")[0])
    return frozenset(out)
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _child_statements(node: ast.AST) -> List[ast.AST]:
    out: List[ast.AST] = []
    for name in _BLOCKS:
        out += getattr(node, name, None) or ()
    return out


def _methods(cls: ast.ClassDef) -> Dict[str, ast.AST]:
    """Defs of the class body, also under `if`/`try` (first one wins)."""
    found: Dict[str, ast.AST] = {}
    todo = list(reversed(cls.body))
    while todo:
        node = todo.pop()
        if isinstance(node, _DEFS):
            found.setdefault(node.name, node)
        elif not isinstance(node, ast.ClassDef):
            todo.extend(reversed(_child_statements(node)))
    return found


class _Facts:
    """The file's classes, tapes and calls, asked rule by rule (lazily)."""

    def __init__(self, api: Api, tree: ast.AST, sensitive: bool, words: FrozenSet[str] = frozenset()) -> None:
        self.api = api
        self.tree = tree
        self.sensitive = sensitive
        self.words = words
        self._tainted: Optional[Set[str]] = None
        self._project_names: Set[str] = set()
        self._taint_all = False  # `from project_module import *`: any name may hold one
        self.names = _Resolver(tree)
        self.withs = self.names.withs
        self.classes: Dict[str, List[ast.ClassDef]] = {}
        for node in self.names.classes:
            self.classes.setdefault(node.name, []).append(node)
        self._kinds: Optional[Dict[str, Set[str]]] = None
        self._known = api.all_known_names()

    # -- names -----------------------------------------------------------------
    def qualify(self, node: ast.AST) -> Optional[str]:
        raw = self.names.raw(node)
        if raw is not None:
            return canonical(raw)
        if isinstance(node, ast.Name) and self.names.r.star_modules:
            return self.names.r.qualify_star(node.id, self._known)
        return None

    def _builder(self, node: ast.AST) -> bool:
        q = self.qualify(node)
        return q is not None and self.api.tf1_builder(q) is not None

    # -- classes ---------------------------------------------------------------
    def kinds(self) -> Dict[str, Set[str]]:
        """Class name -> {"model", "layer"}: what any class of that name may be."""
        if self._kinds is None:
            kinds: Dict[str, Set[str]] = {name: set() for name in self.classes}
            changed = True
            while changed:
                changed = False
                for name, nodes in self.classes.items():
                    new = set(kinds[name])
                    for node in nodes:
                        for base in node.bases:
                            q = self.qualify(base)
                            if q is not None:
                                if self.api.is_model_base(q):
                                    new.add("model")
                                elif self.api.is_layer_base(q):
                                    new.add("layer")
                            if isinstance(base, ast.Name) and base.id in kinds:
                                new |= kinds[base.id]
                    if new != kinds[name]:
                        kinds[name] = new
                        changed = True
            self._kinds = kinds
        return self._kinds

    def _keras_classes(self):
        """(class node, kinds, its methods by name) for every Keras class."""
        for name, nodes in self.classes.items():
            kinds = self.kinds()[name]
            if not kinds:
                continue
            for node in nodes:
                yield node, kinds, _methods(node)

    # -- BN001 -----------------------------------------------------------------
    def _is_tape(self, expr: ast.AST) -> bool:
        if not isinstance(expr, ast.Call):
            return False
        q = self.qualify(expr.func)
        return q is not None and q in self.api.gradient_tapes

    @staticmethod
    def _may_be_model_call(call: ast.Call) -> bool:
        """Could this callee be a Keras object, or a local function that calls
        one? A name, `self.x`, `x.call`, `Dense(3)(x)`; not `np.mean` or
        `tape.watch`."""
        func = call.func
        if isinstance(func, ast.Attribute):
            return func.attr == "call" or (isinstance(func.value, ast.Name) and func.value.id == "self")
        return not isinstance(func, (ast.Lambda, ast.Constant, ast.Subscript, ast.JoinedStr))

    def bn001(self) -> bool:
        for node in self.withs:
            if any(self._is_tape(item.context_expr) for item in node.items):
                for part in node.items + node.body:
                    for sub in ast.walk(part):
                        if isinstance(sub, ast.Call) and self._may_be_model_call(sub) \
                                and not self._is_tape(sub):
                            return True
        steps = self.api.train_step_methods
        return any("model" in kinds and steps & set(methods)
                   for _, kinds, methods in self._keras_classes())

    # -- BN002 -----------------------------------------------------------------
    def bn002(self) -> bool:
        for node, kinds, methods in self._keras_classes():
            call = methods.get("call")
            if call is not None and self._call_may_lose_mode(
                    call, kinds, self._taint_all or node.name in self.tainted()):
                return True
        return False

    def _call_may_lose_mode(self, fn: ast.AST, kinds: Set[str], sensitive: bool) -> bool:
        """`sensitive`: the class may hold a mode-sensitive layer."""
        args = fn.args
        params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        if sensitive:
            if "model" in kinds and "training" not in params:
                return True  # Keras 3: fit() never passes training
            positional = args.posonlyargs + args.args
            defaults = dict(zip([a.arg for a in positional][::-1], args.defaults[::-1]))
            defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults)})
            if _is_true(defaults.get("training")):
                return True
        for sub in ast.walk(fn):
            if not isinstance(sub, ast.Call):
                continue
            if isinstance(sub.func, ast.Attribute) and sub.func.attr == "call" \
                    and self._direct_call_may_lose(sub, sensitive):
                return True
            if sensitive and any(k.arg == "training" and _is_bool(k.value) for k in sub.keywords):
                return True
            if self._builder(sub.func):
                return True
        return False

    def _direct_call_may_lose(self, call: ast.Call, sensitive: bool) -> bool:
        """`self.x.call(...)` / `super().call(...)` that hands no training
        keyword on (a positional flag still counts as maybe lost)."""
        for kw in call.keywords:
            if kw.arg is None or (kw.arg == "training" and not _is_none(kw.value)):
                return False
        owner = call.func.value
        if isinstance(owner, ast.Call):
            return sensitive and isinstance(owner.func, ast.Name) and owner.func.id == "super"
        return isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name) \
            and owner.value.id == "self"

    def project_modules(self, filename: str) -> bool:
        """Imports a module that may be a file of the user's project, whose
        contents index.py then reads (project.py): its names seed the taint.
        A module counts when its first component is a file or folder in one
        of the folders project.py searches (or it is relative)."""
        clean = self.api.clean_libraries
        exists = _project_roots(filename)
        found = False

        def local(module: str) -> bool:
            root = canonical(module).split(".")[0]
            return root not in clean and (module.startswith(".") or exists(root))

        for alias, target in self.names.r.aliases.items():
            if local(target):
                self._project_names.add(alias)
                found = True
        for module in self.names.r.star_modules | self.names.r.raw_modules:
            if local(module):
                found = True
                if module in self.names.r.star_modules:
                    self._taint_all = True
        return found

    # -- which definitions may hold a mode-sensitive layer ------------------------
    def tainted(self) -> Set[str]:
        """Names of classes, functions and module-level variables whose value
        may hold BatchNormalization/Dropout/... as far as names can tell.

        A definition is tainted when its code mentions a sensitive word, a
        local alias of one, or a tainted name; when it is nested in a tainted
        definition; or when a call of it passes a tainted argument (index.py
        follows `Model(bn_layer)` into `self.inner = inner`). Module-level
        statements taint the names they bind. Any doubt taints."""
        if self._tainted is not None:
            return self._tainted
        if not self.sensitive:
            self._tainted = set()
            return self._tainted
        seeds = set(self.words) | self._project_names
        for alias, target in self.names.r.aliases.items():
            if set(target.split(".")) & self.words or set(canonical(target).split(".")) & self.words:
                seeds.add(alias)
        defs: List[Tuple[str, FrozenSet[str], Optional[str]]] = []  # name, mentions, enclosing def
        module_units: List[Tuple[FrozenSet[str], FrozenSet[str]]] = []  # mentions, names bound
        calls: List[Tuple[str, FrozenSet[str]]] = []  # callee name, mentions of its arguments

        def visit(node: ast.AST, enclosing: Optional[str]) -> None:
            for child in _child_statements(node):
                if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    defs.append((child.name, _mentions(child), enclosing))
                    visit(child, child.name)
                elif enclosing is None and not isinstance(child, _COMPOUND):
                    module_units.append((_mentions(child), _bound(child)))
                else:
                    if enclosing is None:
                        module_units.append((_mentions(child, shallow=True), _bound(child, shallow=True)))
                    visit(child, enclosing)

        visit(self.tree, None)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                args = [a for a in node.args] + [k.value for k in node.keywords]
                calls.append((node.func.id, frozenset().union(*(_mentions(a) for a in args))))
        tainted: Set[str] = set()
        changed = True
        while changed:
            changed = False
            active = seeds | tainted
            for name, mentions, enclosing in defs:
                if name not in tainted and (mentions & active or enclosing in tainted):
                    tainted.add(name)
                    changed = True
            for mentions, bound in module_units:
                if mentions & active and not bound <= tainted:
                    tainted |= bound
                    changed = True
            for name, mentions in calls:
                if name not in tainted and mentions & active:
                    tainted.add(name)
                    changed = True
        self._tainted = tainted
        return tainted

    # -- BN003 -----------------------------------------------------------------
    def bn003(self) -> bool:
        train_ops = self.api.train_op_methods
        calls = [node for node in ast.walk(self.tree) if isinstance(node, ast.Call)]
        if not any(isinstance(c.func, ast.Attribute) and c.func.attr in train_ops for c in calls):
            return False
        for call in calls:
            if self._builder(call.func):
                return True
            for kw in call.keywords:
                if isinstance(kw.value, (ast.Attribute, ast.Name)) and self._builder(kw.value):
                    return True
        return False


@lru_cache(maxsize=8)
def build_prefilter(api: Api) -> Prefilter:
    tapes = frozenset(_last(t) for t in api.gradient_tapes)
    steps = frozenset(api.train_step_methods)
    builders = frozenset(_last(b) for b in api.tf1_builders)
    train_ops = frozenset(api.train_op_methods)

    def alt(words: Iterable[str]) -> bytes:
        return b"|".join(re.escape(w.encode()) for w in sorted(set(words)))

    sensitive_words = {_last(n) for n in api.mode_sensitive | api.extra_mode_sensitive} | builders
    sensitive_words.add("applications")
    sensitive = re.compile(alt(sensitive_words))
    # BN002 needs a mode-sensitive name (contents) or a direct `.call(`.
    sensitive_or_direct = re.compile(alt(sensitive_words) + rb"|\.\s*call\s*\(")
    patterns = (
        ("BN001", (re.compile(b"(?:" + alt(tapes) + b")|def\\s+(?:" + alt(steps) + b")\\b"),)),
        ("BN002", (re.compile(rb"def\s+call\s*\("), sensitive_or_direct)),
        ("BN003", (re.compile(alt(builders)), re.compile(b"\\.\\s*(?:" + alt(train_ops) + b")\\s*\\("))),
    )
    return Prefilter(api, patterns, sensitive, frozenset(sensitive_words))
