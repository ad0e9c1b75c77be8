"""Cheap stages before libcst: which rules can possibly fire in a file?

Stage 1 is a byte regex per rule built from the names in rules/api.yaml:
a file that never mentions GradientTape cannot hold a BN001 finding.
Stage 2 runs `ast` (about 10x faster than libcst) and extracts generic
facts (is there a `with` over a tape, a class whose `call` matters, a
train op next to a TF1 batch norm builder). Only files with facts go on to
libcst, which then decides exactly.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import FrozenSet, Iterable, Set, Tuple

from .api import Api


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Prefilter:
    patterns: Tuple[Tuple[str, Tuple["re.Pattern[bytes]", ...]], ...]
    sensitive: "re.Pattern[bytes]"
    tape_names: FrozenSet[str]
    train_step_names: FrozenSet[str]
    builder_names: FrozenSet[str]
    train_op_methods: FrozenSet[str]

    def stage1(self, data: bytes, codes: Iterable[str]) -> Set[str]:
        """Codes whose names appear in the raw bytes."""
        return {code for code, pats in self.patterns
                if code in codes and all(p.search(data) for p in pats)}

    def stage2(self, tree: ast.AST, codes: Set[str], data: bytes) -> Set[str]:
        """Codes whose structure is present in the parsed file."""
        facts = _Facts(self, bool(self.sensitive.search(data)))
        facts.visit(tree)
        out = set()
        if "BN001" in codes and (facts.tape or facts.train_step):
            out.add("BN001")
        if "BN002" in codes and facts.call_methods:
            out.add("BN002")
        if "BN003" in codes and facts.train_op and facts.builder:
            out.add("BN003")
        return out


class _Facts(ast.NodeVisitor):
    def __init__(self, pf: Prefilter, names_sensitive: bool) -> None:
        self.pf = pf
        self.names_sensitive = names_sensitive
        self.model_classes: Set[str] = set()
        self.tapes: FrozenSet[str] = pf.tape_names
        self.tape = False
        self.train_step = False
        self.call_methods = False
        self.train_op = False
        self.builder = False

    def _name(self, node: ast.AST) -> str:
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Name):
            return node.id
        return ""

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.asname and alias.name in self.tapes:
                self.tapes = self.tapes | {alias.asname}

    def visit_Assign(self, node: ast.Assign) -> None:
        if self._name(node.value) in self.tapes:
            self.tapes = self.tapes | {self._name(t) for t in node.targets}
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            expr = item.context_expr
            if isinstance(expr, ast.Call) and self._name(expr.func) in self.tapes:
                self.tape = True
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        base_names = {self._name(b) for b in node.bases}
        if base_names & ({"Model", "Sequential"} | self.model_classes):
            self.model_classes.add(node.name)
        if node.bases:
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if stmt.name == "call" and self._call_matters(node, stmt):
                        self.call_methods = True
                    elif stmt.name in self.pf.train_step_names:
                        self.train_step = True
        self.generic_visit(node)

    def _call_matters(self, cls: ast.ClassDef, fn: ast.FunctionDef) -> bool:
        """Could BN002 fire on this call()? (generic shape, not the rule)"""
        args = fn.args
        names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        if "training" not in names:
            if cls.name in self.model_classes and self.names_sensitive:
                return True
        defaults = dict(zip([a.arg for a in args.args][::-1], args.defaults[::-1]))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        if isinstance(defaults.get("training"), ast.Constant) and defaults["training"].value is True:
            return True
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Call):
                if self._name(sub.func) in ("call",) or self._name(sub.func) in self.pf.builder_names:
                    return True
                if any(k.arg == "training" and isinstance(k.value, ast.Constant) for k in sub.keywords):
                    return True
        return False

    def visit_Call(self, node: ast.Call) -> None:
        name = self._name(node.func)
        if name in self.pf.train_op_methods:
            self.train_op = True
        elif name in self.pf.builder_names:
            self.builder = True
        for kw in node.keywords:
            if kw.value is not None and self._name(kw.value) in self.pf.builder_names:
                self.builder = True
        self.generic_visit(node)


@lru_cache(maxsize=8)
def build_prefilter(api: Api) -> Prefilter:
    tapes = frozenset(_last(t) for t in api.gradient_tapes)
    steps = frozenset(api.train_step_methods)
    builders = frozenset(_last(b) for b in api.tf1_builders)
    train_ops = frozenset(api.train_op_methods)

    def alt(words: Iterable[str]) -> bytes:
        return b"|".join(re.escape(w.encode()) for w in sorted(set(words)))

    patterns = (
        ("BN001", (re.compile(b"(?:" + alt(tapes) + b")|def\\s+(?:" + alt(steps) + b")\\b"),)),
        ("BN002", (re.compile(rb"def\s+call\s*\("),)),
        ("BN003", (re.compile(alt(builders)), re.compile(b"\\.(?:" + alt(train_ops) + b")\\s*\\("))),
    )
    sensitive_words = {_last(n) for n in api.mode_sensitive | api.extra_mode_sensitive} | builders
    sensitive_words.add("applications")
    sensitive = re.compile(alt(sensitive_words))
    return Prefilter(patterns, sensitive, tapes, steps, builders, train_ops)
