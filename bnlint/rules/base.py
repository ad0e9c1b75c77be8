"""The shape of a rule: a code, its variants (an Enum whose values are the
message keys of rules/BNxxx.yaml), what the pre-filter needs (`stage1`:
words in the bytes; `applies`: a cheap question to the semantic model),
`check()` that reports `ast` nodes, and fixers by variant (libcst, built
only when a fix is asked for; see bnlint/fixes/)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, ClassVar, Dict, List, Optional, Tuple

from ..api import Api
from ..config import Config
from ..flavour import detect_flavour, flavour_of_base
from ..semantic import SemanticModel
from ..semantic.values import is_const
from ..specs import RuleSpec, load_specs


_LINES = re.compile(r"\r\n|\r|\n")


@dataclass
class RuleContext:
    """Everything a rule may ask about one file."""

    filename: str
    source: str
    model: SemanticModel
    api: Api
    config: Config
    line_name: Callable[[int], str] = str  # how a message names a line (a notebook names the cell)
    _flavour: Optional[str] = field(default=None, init=False)
    _lines: Optional[List[bytes]] = field(default=None, init=False)

    def segment(self, node: ast.AST) -> str:
        """The source text of a node, as written (ast.unparse if unknown)."""
        if self._lines is None:
            self._lines = [line.encode("utf-8", "surrogatepass") for line in _LINES.split(self.source)]
        try:
            first, last_ = node.lineno - 1, node.end_lineno - 1
            if first == last_:
                text = self._lines[first][node.col_offset:node.end_col_offset]
            else:
                parts = [self._lines[first][node.col_offset:]] + self._lines[first + 1:last_] + \
                    [self._lines[last_][:node.end_col_offset]]
                text = b"\n".join(parts)
            return text.decode("utf-8", "surrogatepass")
        except (AttributeError, IndexError, TypeError, UnicodeDecodeError):
            return source_of(node)

    @property
    def values(self):
        return self.model.values

    @property
    def names(self):
        return self.model.names

    @property
    def scopes(self):
        return self.model.scopes

    @property
    def flavour(self) -> str:
        """"keras2" or "keras3": which Keras this file runs under."""
        if self._flavour is None:
            self._flavour = detect_flavour(self.names, self.source, self.config.keras)
        return self._flavour

    def class_flavour(self, raw_base: Optional[str]) -> str:
        return flavour_of_base(raw_base, self.names, self.source, self.config.keras)


@dataclass
class Report:
    """One finding before positions: the `ast` node, the variant, the
    one-line message, its detail (the spec's `detail`: why, which layer;
    shown by `--output-format full`, "" if none), and facts the fixer needs
    (ast nodes and plain values)."""

    code: str
    node: ast.AST
    variant: Enum
    message: str
    flavour: Optional[str] = None
    context: dict = field(default_factory=dict)
    detail: str = ""


class Rule:
    """Base class: subclasses set `code`, `Variant`, `stage1_words` and
    implement `check()`; `fixers` maps a variant to a fix builder."""

    code: ClassVar[str] = ""
    Variant: ClassVar[type] = Enum
    fixers: ClassVar[Dict[Enum, Callable]] = {}

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.reports: List[Report] = []

    # -- what the pre-filter needs ------------------------------------------
    @classmethod
    def stage1(cls, api: Api) -> Tuple["re.Pattern[bytes]", ...]:
        """Byte patterns that must all match for the rule to be able to fire."""
        raise NotImplementedError

    @classmethod
    def applies(cls, model: SemanticModel) -> bool:
        """A cheap necessary condition on the semantic model."""
        return True

    # -- reporting ------------------------------------------------------------
    @classmethod
    def spec(cls) -> RuleSpec:
        return load_specs()[cls.code]

    def line_of(self, node: ast.AST) -> str:
        return self.ctx.line_name(node.lineno)

    def report(self, node: ast.AST, variant: Enum, *, flavour: Optional[str] = None,
               context: Optional[dict] = None, **values) -> None:
        """Record a finding. `values` fill the spec's message and detail
        templates (a line they name is written with `self.line_of`)."""
        message = self.spec().message(variant.value, **values)
        detail = self.spec().detail(variant.value, **values)
        assumed = self.ctx.names.assumed
        if assumed:  # said in the detail: the one-line message stays short
            said = ", ".join(f"`{name}` as `{path}`" for name, path in sorted(assumed.items()))
            them = "them as the usual imports" if len(assumed) > 1 else "it as the usual import"
            note = f"The file never imports {said}: bnlint read {them}."
            detail = f"{detail} {note}" if detail else note
        if flavour == "keras3":
            message = f"[Keras 3] {message}"
        elif flavour == "keras2":
            message = f"[Keras 2] {message}"
        self.reports.append(Report(self.code, node, variant, message, flavour, context or {}, detail))

    def check(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> List[Report]:
        self.check()
        return self.reports


def words(items) -> bytes:
    """A regex alternation of literal words."""
    return b"|".join(re.escape(w.encode()) for w in sorted(set(items)))


def last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def kwarg(call: ast.Call, name: str) -> Optional[ast.keyword]:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def passes_training(call: ast.Call) -> bool:
    """Does the call hand over a training flag, by keyword or by position?

    Keras passes positional arguments on to `call`, so `layer(x, training)`,
    `model(x, is_training)` and `model(x, y, True)` pass it too; `model(x,
    mask)` does not. A keyword of the model's own, `net(x, is_training=True)`,
    is passed on by its `call`. `training=None` is not a flag."""
    kw = kwarg(call, "training")
    if kw is not None:
        return not is_const(kw.value, None)
    for kw in call.keywords:
        if kw.arg is not None and "train" in kw.arg.lower() and not is_const(kw.value, None):
            return True
    plain = [a for a in call.args if not isinstance(a, ast.Starred)]
    for value in plain[1:]:
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            return True
        if isinstance(value, ast.Name) and "train" in value.id.lower():
            return True
        if isinstance(value, ast.Attribute) and "train" in value.attr.lower():
            return True
    return False


def has_star_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def has_star(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or has_star_kwargs(call)


def source_of(node: ast.AST) -> str:
    """The expression as Python source (normalised by ast.unparse)."""
    try:
        return ast.unparse(node)
    except (RecursionError, ValueError):
        return "..."
