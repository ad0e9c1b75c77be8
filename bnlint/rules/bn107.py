"""BN107: an is-training placeholder that defaults to True and is never fed
False, in a file that evaluates the graph.

`tf.placeholder_with_default(True, ())` passed as `training=` keeps batch
norm and dropout in training mode for every `Session.run` that does not
feed it: measured on tf_keras 2.21, a single sample normalises to zeros
through `batch_normalization(z, training=is_training)` when the flag is
not fed, and to its moving-statistics value (4.998 for input 5.0) when fed
False.

Precision: the placeholder is reported only when every read of its name
in the file is understood: a keyword argument, a positional argument of a
TF/Keras call or of a local function whose parameter names training, or a
feed-dict key whose value is the literal True; any other read (a helper
that builds the feed, a zip of placeholders) may feed False, so nothing is
reported. An evaluation run must be visible: `x.eval(feed_dict=...)`, or
`run(fetches, feed_dict=...)` whose fetches name no train op. No fix: which
runs evaluate is the user's knowledge.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import List, Optional

from ..semantic.resolve import dotted
from ..semantic.scopes import ScopeKind
from ..semantic.values import is_const
from .base import Rule, kwarg, last, words
from .flow import train_op_names
from .tables import family_tables


class Variant(Enum):
    DEFAULT = "default"


def _is_true(node: Optional[ast.AST], qualify) -> bool:
    if is_const(node, True):
        return True
    return isinstance(node, ast.Call) and qualify(node.func) == "tensorflow.constant" \
        and len(node.args) == 1 and is_const(node.args[0], True)


class IsTrainingNeverFedFalse(Rule):
    code = "BN107"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        return (re.compile(words({last(n) for n in family_tables(api).placeholders_with_default})),
                re.compile(rb"\brun\s*\(|\.eval\s*\("))

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        qualify = ctx.values.qualify
        flags = []
        for target, value, _ in ctx.scopes.assigns:
            if not isinstance(value, ast.Call) or qualify(value.func) not in t.placeholders_with_default:
                continue
            given = kwarg(value, "input")
            default = given.value if given is not None else (value.args[0] if value.args else None)
            text = dotted(target)
            if text is not None and _is_true(default, qualify):
                flags.append((value, target, text))
        if not flags:
            return
        parents = _parents(ctx.model.tree)
        evaluation = None
        for value, target, text in flags:
            name = text.rsplit(".", 1)[-1]
            if not self._only_mode_uses(name, target, parents):
                continue
            if evaluation is None:
                evaluation = self._evaluation_run() or False
            if evaluation is False:
                return
            self.report(value, Variant.DEFAULT, flag=text, line=self.line_of(evaluation))

    def _reads(self, name: str, target: ast.AST) -> List[ast.AST]:
        stored = {id(n) for n in ast.walk(target)}
        out = []
        for node in ast.walk(self.ctx.model.tree):
            if id(node) in stored:
                continue
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                out.append(node)
            elif isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, ast.Load):
                out.append(node)
        return out

    def _only_mode_uses(self, name: str, target: ast.AST, parents) -> bool:
        """Is every read of the flag a use as a mode, or a feed of True?"""
        reads = self._reads(name, target)
        if not reads:
            return False
        used_as_mode = False
        for node in reads:
            parent = parents.get(id(node))
            if isinstance(parent, ast.keyword) and parent.arg is not None:
                used_as_mode = True
                continue
            if isinstance(parent, ast.Call) and node in parent.args and self._mode_position(parent, node):
                used_as_mode = True
                continue
            if isinstance(parent, ast.Dict) and node in parent.keys:
                value = parent.values[parent.keys.index(node)]
                if is_const(value, True):
                    continue
            return False
        return used_as_mode

    def _mode_position(self, call: ast.Call, node: ast.AST) -> bool:
        q = self.ctx.values.qualify(call.func)
        if q is not None:
            return q.startswith(("tensorflow.", "keras.", "tf_slim."))
        fn = self.ctx.values.definition(call.func, ScopeKind.FUNCTION)
        if fn is None:
            return False
        params = [p for p in fn.params if p != "self"]
        index = call.args.index(node)
        return index < len(params) and "train" in params[index].lower()

    def _evaluation_run(self) -> Optional[ast.Call]:
        """The first `t.eval(feed_dict=...)` or `run(fetches, feed_dict)`
        whose fetches name no train op."""
        train = train_op_names(self.ctx)
        for site in self.ctx.scopes.sites:
            call = site.call
            func = call.func
            if not isinstance(func, ast.Attribute):
                continue
            feed = kwarg(call, "feed_dict")
            if func.attr == "eval" and feed is not None:
                return call
            if func.attr != "run" or not call.args or (feed is None and len(call.args) < 2):
                continue
            fetched = {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)} | \
                {n.attr for n in ast.walk(call.args[0]) if isinstance(n, ast.Attribute)}
            if fetched & train or any("train" in f.lower() or "optim" in f.lower() for f in fetched):
                continue
            return call
        return None


def _parents(tree: ast.AST):
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out
