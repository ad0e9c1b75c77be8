"""BN003 fix: build the train op under the batch norm update ops.

The statement that creates the train op is wrapped in
`with <tf>.control_dependencies(<tf>.get_collection(<tf>.GraphKeys.UPDATE_OPS)):`
spelled with the file's own name for TensorFlow (`tf` from
`import tensorflow.compat.v1 as tf`, `tf.compat.v1.` where the file writes
it that way), at the statement's indentation.

Safe only when the fix can see the whole story: one train op in the file,
batch norm built earlier in the same function (or both at module level),
and a statement alone on its line. Otherwise unsafe: the collection is
read when the `with` runs, so batch norm built later (or in a function
called later) is missed, and with several train ops every one of them
would run every model's updates.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ..finding import Fix
from .edits import node_edits
from .tree import ancestors, comes_before, enclosing_function

_V1 = ("tensorflow.compat.v1", "tensorflow._api.v2.compat.v1")


def _prefixes(ctx):
    """(prefix for control_dependencies, prefix for the collection), or None."""
    aliases = ctx.names.aliases
    v1 = sorted(n for n, raw in aliases.items() if raw in _V1)
    tf = sorted(n for n, raw in aliases.items() if raw == "tensorflow")
    if v1:
        name = "tf" if "tf" in v1 else v1[0]
        return f"{name}.", f"{name}."
    if tf:
        name = "tf" if "tf" in tf else tf[0]
        if re.search(rf"\b{re.escape(name)}\s*\.\s*compat\s*\.\s*v1\s*\.", ctx.source):
            return f"{name}.", f"{name}.compat.v1."
        return f"{name}.", f"{name}."
    return None


def _statement(ctx, call: cst.Call):
    """The statement line holding the train op, when a `with` can wrap it."""
    for up in ancestors(ctx.module, call):
        if isinstance(up, (cst.Lambda, cst.GeneratorExp, cst.FunctionDef, cst.ClassDef)):
            return None  # made later, elsewhere, or lazily: not by this statement
        if isinstance(up, cst.SimpleStatementLine):
            return up
        if isinstance(up, (cst.BaseCompoundStatement, cst.SimpleStatementSuite)):
            return None  # in an `if`/`for` header or a one-line suite
    return None


def _train_ops(ctx) -> int:
    methods = set(ctx.api.train_op_methods)
    count = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in methods:
                count.append(node)

    ctx.module.visit(_V())
    return len(count)


def _sees_whole(ctx, report, stmt: cst.SimpleStatementLine) -> bool:
    bn = report.context.get("bn")
    if bn is None or len(stmt.body) != 1 or _train_ops(ctx) != 1:
        return False
    return enclosing_function(ctx.module, bn) is enclosing_function(ctx.module, stmt) \
        and comes_before(ctx.module, bn, stmt)


def fix_wrap(ctx, report) -> Optional[Fix]:
    call = report.node
    stmt = _statement(ctx, call)
    names = _prefixes(ctx)
    if stmt is None or names is None:
        return None
    deps, coll = names
    item = cst.parse_expression(
        f"{deps}control_dependencies({coll}get_collection({coll}GraphKeys.UPDATE_OPS))")
    wrapped = cst.With(
        items=[cst.WithItem(item=item)],
        body=cst.IndentedBlock(body=[stmt.with_changes(leading_lines=[])]),
        leading_lines=stmt.leading_lines,
    )
    safety = "safe" if _sees_whole(ctx, report, stmt) else "unsafe"
    header = f"with {deps}control_dependencies(...)"
    return Fix(f"Create the train op under `{header}` of the update ops", safety,
               node_edits(ctx.module, ctx.source, {stmt: wrapped}))


FIXERS = {("BN003", "default"): fix_wrap}
