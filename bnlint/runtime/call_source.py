"""What a call in the user's source passes as `training`: a literal or not;
which GradientTape blocks enclose a line, and which lines a `with` block spans.

A batch norm that only ever ran with training=True has moving statistics
that this program never reads. When the True is written at the call
(`batch_normalization(x, training=True)`, `bn(x, True)`), always using batch
statistics is the design (pix2pix does so), and the runtime stays quiet.
When it arrives through a parameter (`training=is_training`, set True by a
caller such as `model_fn(x, is_training=True)`), the same code also builds
the inference graph, which reads the statistics that training never
updated: that is a bug, and BN801 reports it (issue 14 item 20).

Parent side only; reads the file from disk after the run.
"""

from __future__ import annotations

import ast
import functools
import warnings
from typing import List, Optional, Tuple

_MAX_BYTES = 8 * 1024 * 1024  # as the linter's BN904 limit


@functools.lru_cache(maxsize=64)
def _nodes(path: str) -> Optional[List[ast.AST]]:
    """The calls and `with` statements of a user file; None if unreadable."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_BYTES + 1)
        if len(data) > _MAX_BYTES:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data, path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Call, ast.With, ast.AsyncWith))]


def _calls(path: str) -> Optional[List[ast.Call]]:
    nodes = _nodes(path)
    return None if nodes is None else [n for n in nodes if isinstance(n, ast.Call)]


def _is_tape(expr: ast.expr) -> bool:
    func = expr.func if isinstance(expr, ast.Call) else None
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "GradientTape"


def enclosing_tapes(path: str, line: int) -> Optional[List[Tuple[int, int]]]:
    """The `with ...GradientTape(...)` statements whose body holds `line`
    (1-based), as (first, last) lines of their header; None if the file
    cannot be read or parsed."""
    nodes = _nodes(path)
    if nodes is None:
        return None
    out = []
    for node in nodes:
        if (isinstance(node, (ast.With, ast.AsyncWith)) and any(_is_tape(i.context_expr) for i in node.items)
                and node.body and node.body[0].lineno <= line <= (node.end_lineno or line)):
            out.append((node.lineno, max(node.lineno, node.body[0].lineno - 1)))
    return out


def with_block(path: str, line: int) -> Optional[Tuple[int, int]]:
    """(first, last) lines (1-based) of the innermost `with` statement whose
    header holds `line`, body included; None if there is none or the file
    cannot be read or parsed."""
    nodes = _nodes(path)
    if nodes is None:
        return None
    best = None
    for node in nodes:
        if isinstance(node, (ast.With, ast.AsyncWith)) and node.body:
            if node.lineno <= line < node.body[0].lineno and (best is None or node.lineno >= best[0]):
                best = (node.lineno, node.end_lineno or node.lineno)
    return best


def _passed(call: ast.Call) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == "training":
            return keyword.value
    if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, bool):
        return call.args[1]  # a Keras layer call `layer(x, True)`
    return None


def literal_training(path: str, line: int) -> Optional[bool]:
    """Whether the calls on `line` (1-based) of `path` pass `training` as the
    literal True (True), as anything else, e.g. a parameter (False), or
    whether that cannot be told: no such call, mixed calls, an unreadable or
    unparsable file, or one over 8 MiB (None)."""
    calls = _calls(path)
    if calls is None:
        return None
    values = [value for call in calls
              if call.lineno <= line <= (call.end_lineno or call.lineno)
              for value in [_passed(call)] if value is not None]
    if not values:
        return None
    literal = [isinstance(v, ast.Constant) and v.value is True for v in values]
    if all(literal):
        return True
    if not any(literal):
        return False
    return None
