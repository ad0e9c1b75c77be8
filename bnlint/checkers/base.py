"""The shape of a rule: a class with a code, a spec, and a check() that
reports nodes. Positions are computed later, only for files that have
findings (PositionProvider costs a full extra pass)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, List, Optional

import libcst as cst

from ..context import FileContext
from ..finding import Fix
from ..specs import RuleSpec, load_specs


@dataclass
class Report:
    code: str
    node: cst.CSTNode
    message: str
    fix: Optional[Fix] = None
    flavour: Optional[str] = None
    variant: str = "default"
    # Nodes and facts a fixer needs (e.g. the FunctionDef whose signature to
    # change); never serialised.
    context: dict = field(default_factory=dict)


class Checker:
    """Base class: subclasses set `code` and implement `check()`."""

    code: ClassVar[str] = ""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.reports: List[Report] = []
        self.refs: dict = {}

    def line_of(self, node: cst.CSTNode) -> str:
        """A placeholder for `node`'s line number in a message; the engine fills
        it in once positions are known (only for files with findings)."""
        key = f"\x00line{len(self.refs)}\x00"
        self.refs[key] = node
        return key

    @classmethod
    def spec(cls) -> RuleSpec:
        return load_specs()[cls.code]

    def report(self, node: cst.CSTNode, variant: str = "default", *, fix: Optional[Fix] = None,
               flavour: Optional[str] = None, context: Optional[dict] = None, **values) -> None:
        message = self.spec().message(variant, **values)
        if flavour == "keras3":
            message = f"[Keras 3] {message}"
        elif flavour == "keras2":
            message = f"[Keras 2] {message}"
        self.reports.append(Report(self.code, node, message, fix, flavour, variant, context or {}))

    def check(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> List[Report]:
        self.check()
        return self.reports


def kwarg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def passes_training(call: cst.Call) -> bool:
    """Does the call hand over a training flag, by keyword or by position?

    Keras passes positional arguments on to `call`, so `layer(x, training)`,
    `model(x, is_training)` and `model(x, y, True)` pass it too; `model(x,
    mask)` does not. A keyword of the model's own, `net(x, is_training=True)`,
    is passed on by its `call`. `training=None` is not a flag."""
    kw = kwarg(call, "training")
    if kw is not None:
        return not is_literal(kw.value, "None")
    for arg in call.args:  # the model's own flag: net(x, is_training=True)
        if arg.keyword is not None and "train" in arg.keyword.value.lower() \
                and not is_literal(arg.value, "None"):
            return True
    plain = [a for a in call.args if a.keyword is None and not a.star]
    for arg in plain[1:]:
        value = arg.value
        if isinstance(value, cst.Name) and (value.value in ("True", "False")
                                            or "train" in value.value.lower()):
            return True
        if isinstance(value, cst.Attribute) and "train" in value.attr.value.lower():
            return True
    return False


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def is_literal(node: cst.BaseExpression, value: str) -> bool:
    """`True` / `False` / `None` as written."""
    return isinstance(node, cst.Name) and node.value == value


def source_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)
