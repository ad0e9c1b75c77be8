"""BN104: hand-made batch norm (`tf.nn.moments` over the batch axis +
`tf.nn.batch_normalization`) with no working moving averages.

Measured on TF 2.21: a hand-made batch norm that creates an
`ExponentialMovingAverage` and never runs its `apply` normalises every
batch with its own statistics, so a single sample alone normalises to
zeros; the same holds when the averages exist but are never read.

Reported, for a function that normalises with the moments of its input
over axis 0 (a literal axes list holding 0; per-sample moments are layer or
instance norm):
- an EMA built in the same class or function whose `apply` is never called
  anywhere in the file (ema_never_applied);
- in TF1 graph code, an `apply(...)` whose op is thrown away (a bare
  expression statement: nothing runs it) (apply_discarded);
- an EMA applied to the moments whose averages are never read (no
  `.average(...)`, `average_name`, `variables_to_restore`) (never_read);
- no EMA and no variable assignment at all, in a function whose
  is-training parameter is never read (batch_stats_always).
An EMA handed in from outside (a parameter) or used otherwise than through
`apply` / `average` is not judged. No fix: a moving-average scheme cannot
be written for the user.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Dict, List, Optional, Set

from ..semantic.resolve import dotted
from ..semantic.scopes import Scope, ScopeKind
from .base import Rule, kwarg, last, words
from .flow import is_graph_code
from .tables import family_tables

_READS = ("average", "average_name", "variables_to_restore")
_ASSIGNS = ("assign", "assign_sub", "assign_add", "assign_moving_average")


class Variant(Enum):
    EMA_NEVER_APPLIED = "ema_never_applied"
    APPLY_DISCARDED = "apply_discarded"
    NEVER_READ = "never_read"
    BATCH_STATS_ALWAYS = "batch_stats_always"


def _mode_param(name: str) -> bool:
    lowered = name.lower()
    return ("train" in lowered and "trainable" not in lowered) or lowered in ("phase", "phase_train")


def _batch_axes(call: ast.Call) -> bool:
    axes = kwarg(call, "axes")
    value = axes.value if axes is not None else (call.args[1] if len(call.args) > 1 else None)
    if isinstance(value, (ast.List, ast.Tuple)):
        return any(isinstance(e, ast.Constant) and e.value == 0 and not isinstance(e.value, bool)
                   for e in value.elts)
    return False


class HandMadeBatchNorm(Rule):
    code = "BN104"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        t = family_tables(api)
        return (re.compile(words({last(n) for n in t.moments_functions})),
                re.compile(words({last(n) for n in t.nn_batch_norm_functions})))

    def check(self) -> None:
        ctx = self.ctx
        t = family_tables(ctx.api)
        qualify = ctx.values.qualify
        by_fn: Dict[int, List] = {}
        for site in ctx.scopes.sites:
            q = qualify(site.call.func)
            fn = site.scope.function or ctx.scopes.module
            if q in t.moments_functions and _batch_axes(site.call):
                by_fn.setdefault(id(fn), [fn, [], []])[1].append(site.call)
            elif q in t.nn_batch_norm_functions:
                by_fn.setdefault(id(fn), [fn, [], []])[2].append(site.call)
        units = [(fn, moments, norms) for fn, moments, norms in by_fn.values() if moments and norms]
        if not units:
            return
        emas = self._emas(t)
        uses = self._receiver_uses()
        discarded = self._discarded_calls()
        graph = None
        for fn, moments, norms in units:
            stats = self._stat_names(fn, moments)
            norm = next((n for n in norms if _mentions(n, stats)), None)
            if norm is None:
                continue
            unit = fn.cls if fn.cls is not None else fn
            mine = [(text, node) for text, node, owner in emas if owner is unit or owner is fn]
            if not mine:
                if emas or self._assigns_anything(unit):
                    continue
                flag = next((p for p in fn.params if _mode_param(p)), None)
                if flag is not None and not _reads_name(fn.node, flag):
                    self.report(norm, Variant.BATCH_STATS_ALWAYS, fn=fn.name, flag=flag)
                continue
            for text, node in mine:
                key = text.rsplit(".", 1)[-1]
                used = uses.get(key, {"apply": [], "read": []})  # never loaded: never applied nor read
                if used is None:
                    continue  # handed on or used otherwise: not judged
                applied = used["apply"]
                if not applied:
                    self.report(node, Variant.EMA_NEVER_APPLIED, ema=text)
                    continue
                if graph is None:
                    graph = is_graph_code(ctx)
                lost = [c for c in applied if id(c) in discarded]
                if graph and len(lost) == len(applied):
                    self.report(lost[0], Variant.APPLY_DISCARDED, ema=text)
                    continue
                if not used["read"] and any(_mentions(c, stats) for c in applied):
                    self.report(node, Variant.NEVER_READ, ema=text)

    def _emas(self, t) -> List:
        """(dotted name, construction call, class or function it belongs to)."""
        out = []
        for target, value, scope in self.ctx.scopes.assigns:
            if isinstance(value, ast.Call) and self.ctx.values.qualify(value.func) in t.moving_average_classes:
                text = dotted(target)
                if text is None:
                    continue
                owner = scope.cls if text.startswith("self.") and scope.cls is not None else \
                    (scope.function or self.ctx.scopes.module)
                out.append((text, value, owner))
        return out

    def _receiver_uses(self) -> Dict[str, Optional[Dict[str, list]]]:
        """For each last name of a dotted expression: its `apply` calls and
        whether an average is read; None when the name is used any other way
        (passed, returned, stored) - checked for EMA names only."""
        table: Dict[str, Optional[Dict[str, list]]] = {}
        parents = {}
        for node in ast.walk(self.ctx.model.tree):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
        for node in ast.walk(self.ctx.model.tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                key = node.id
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and \
                    isinstance(node.value, ast.Name) and node.value.id == "self":
                key = node.attr
            else:
                continue
            entry = table.setdefault(key, {"apply": [], "read": []})
            if entry is None:
                continue
            parent = parents.get(id(node))
            grand = parents.get(id(parent)) if parent is not None else None
            if isinstance(parent, ast.Attribute) and parent.value is node:
                if parent.attr == "apply" and isinstance(grand, ast.Call) and grand.func is parent:
                    entry["apply"].append(grand)
                elif parent.attr in _READS:
                    entry["read"].append(parent)
                continue
            table[key] = None
        return table

    def _discarded_calls(self) -> Set[int]:
        return {id(node.value) for node in ast.walk(self.ctx.model.tree)
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)}

    def _stat_names(self, fn: Scope, moments: List[ast.Call]) -> Set[str]:
        """Names the moments are unpacked into (`mean, var = tf.nn.moments(...)`)."""
        ids = {id(m) for m in moments}
        names: Set[str] = set()
        for target, value, _ in self.ctx.scopes.assigns:
            if any(id(sub) in ids for sub in ast.walk(value)):
                names |= {dotted(n) for n in ast.walk(target) if isinstance(n, (ast.Name, ast.Attribute))
                          and dotted(n)}
        return names | {f"#{i}" for i in ids}

    def _assigns_anything(self, unit: Scope) -> bool:
        fns = list(unit.methods.values()) if unit.kind is ScopeKind.CLASS else [unit]
        for fn in fns:
            for call in fn.calls:
                func = call.func
                if isinstance(func, ast.Attribute) and func.attr in _ASSIGNS:
                    return True
                if isinstance(func, ast.Name) and func.id in _ASSIGNS:
                    return True
        return False


def _mentions(node: ast.AST, names: Set[str]) -> bool:
    for sub in ast.walk(node):
        if f"#{id(sub)}" in names:
            return True
        if isinstance(sub, (ast.Name, ast.Attribute)) and dotted(sub) in names:
            return True
    return False


def _reads_name(fn_node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for stmt in fn_node.body for n in ast.walk(stmt))
