"""BN113: a TF1 batch norm builder whose training argument defaults to True
(`slim.batch_norm`, `tf.contrib.layers.batch_norm`, also as
`normalizer_fn=`) called without it, in a graph the file also evaluates or
samples.

contrib/slim `batch_norm(inputs, ..., is_training=True, ...)` (TF 1.15,
tf_slim 1.1 signature) normalises with the statistics of the batch it is
given unless told otherwise; its moving statistics are updated but never
read. A graph built once that way and then run for evaluation, sampling
or inference after `Saver.restore` uses batch statistics there: results
depend on the batch, and one sample alone normalises to the layer's beta.

Off by default: a GAN that samples in training mode may do so on purpose
(pix2pix does, by its paper), so a finding is a judgement, not always a
bug (benchmarks/realworld/README.md gives the measured precision).

Reported at the builder call (or its `normalizer_fn=` argument) when its
output flows (flow.py, by names within the file) into the fetches of a
run that evaluates: a `.run(...)` / `.eval()` that fetches no train op,
written in a function whose name, fetching a name whose name, or assigned
to a name whose name (`samples = sess.run(fake)`) holds an
api.yaml `evaluation_words` word (`sample`, `test`, `evaluate`, ...), or
after a `saver.restore(...)` in the same function. Not reported in a file
that uses `arg_scope` (it may set `is_training` for every call), nor for
a call with a second positional argument or `**kwargs`. No fix: the flag
(a placeholder fed per run, a second graph with `is_training=False`) is
the user's design.
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from typing import Dict, List, Optional, Set, Tuple

from ..semantic.scopes import Scope, ScopeKind
from .base import Rule, has_star, kwarg, last, words
from .flow import Flow, train_op_names
from .tables import family_tables

# Words of an identifier: `sample_images` -> sample, images; `testAcc` -> test, acc.
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_ARG_SCOPE = re.compile(r"\barg_scope\b")
_ARG_SCOPE_BYTES = re.compile(rb"\barg_scope\b")


class Variant(Enum):
    CALL = "call"
    NORMALIZER = "normalizer"
    HELPER = "helper"  # a function of the user's other module that calls the builder so


def _words(name: str) -> Set[str]:
    return {w.lower() for w in _WORD.findall(name)}


def _owner(scope: Scope) -> Optional[Scope]:
    s: Optional[Scope] = scope
    while s is not None and s.kind in (ScopeKind.LAMBDA, ScopeKind.COMPREHENSION):
        s = s.parent
    return s


class DefaultTrainingBuilderEvaluated(Rule):
    code = "BN113"
    Variant = Variant

    @classmethod
    def stage1(cls, api):
        """A run in the file's bytes (the evaluation is always written in
        the file), and a default-training builder there or, for a helper,
        in a project module the file imports."""
        runs = family_tables(api).graph_run_methods
        return (re.compile(rb"\.[ \t]*(?:" + words(runs) + rb")[ \t]*\("), cls._builder_words(api))

    @staticmethod
    def _builder_words(api):
        return re.compile(words({last(n) for n, b in api.tf1_builders.items() if b.training_default}))

    @classmethod
    def stage1_project(cls) -> bool:
        """The builder may be called by a helper of a project module."""
        return True

    @classmethod
    def project_words(cls, api):
        """...one whose bytes hold the builder (one pattern per stage-1 pattern after the first)."""
        return (cls._builder_words(api),)

    def check(self) -> None:
        ctx = self.ctx
        if _ARG_SCOPE.search(ctx.source):
            return
        candidates = self._candidates()
        if not candidates:
            return
        runs = self._evaluation_runs()
        if not runs:
            return
        flow = Flow(ctx)
        for call, node, variant, builder, arg, more in candidates:
            for run, fetches, scope in runs:
                if flow.reaches(call, [(fetches, scope)]) is not None:
                    self.report(node, variant, builder=builder, arg=arg, line=self.line_of(run), **more)
                    break

    def _candidates(self) -> List[Tuple[ast.Call, ast.AST, Variant, str, str, dict]]:
        """(layer call, node to report, variant, builder, its training
        argument, more message values) for each default-training builder
        left at its default, here or in a helper of the user's other module."""
        ctx = self.ctx
        api = ctx.api
        out = []
        for site in ctx.scopes.sites:
            call = site.call
            q = ctx.values.qualify(call.func)
            builder = api.tf1_builder(q) if q else None
            if builder is not None:
                if builder.training_default and kwarg(call, builder.training_arg) is None \
                        and not has_star(call) and len(call.args) <= 1:
                    out.append((call, call, Variant.CALL, last(q), builder.training_arg, {}))
                continue
            fn = kwarg(call, "normalizer_fn")
            if fn is None:
                helper = self._helper(q) if q else None
                if helper is not None:
                    out.append((call, call, Variant.HELPER, helper[1], helper[2], {"fn": helper[0]}))
                continue
            if has_star(call):
                continue
            q = ctx.values.qualify(fn.value)
            builder = api.tf1_builder(q) if q else None
            if builder is None or not builder.training_default:
                continue
            params = kwarg(call, "normalizer_params")
            if params is not None:
                if not isinstance(params.value, ast.Dict) or any(
                        not (isinstance(k, ast.Constant) and isinstance(k.value, str)) for k in params.value.keys):
                    continue  # a dict built elsewhere may set the flag
                if any(k.value == builder.training_arg for k in params.value.keys):
                    continue
            out.append((call, fn.value, Variant.NORMALIZER, last(q), builder.training_arg, {}))
        return out

    def _helper(self, q: str) -> Optional[Tuple[str, str, str]]:
        """(the function, the builder, its training argument) when `q` is a function of
        the user's other module that calls a default-training builder
        without that argument (directly, or in a function of that module it
        calls), in a module whose bytes never mention `arg_scope`."""
        ctx = self.ctx
        values = ctx.values
        module = q.rpartition(".")[0]
        if values.project is None or not module or q.split(".")[0] in ctx.api.clean_libraries:
            return None
        if not values.project.mentions(module, self._builder_words(ctx.api)) or \
                values.project.mentions(module, _ARG_SCOPE_BYTES):
            return None
        target = values.external_target(q)
        if target is None:
            return None
        other, attr = target
        d = other.module_definition(attr)
        if d is None or d.kind is not ScopeKind.FUNCTION:
            return None
        for scope, _ in other.graph.reachable([(d, None)], max_depth=2).values():
            for inner in scope.calls:
                iq = other.qualify(inner.func)
                builder = ctx.api.tf1_builder(iq) if iq else None
                if builder is not None and builder.training_default and kwarg(inner, builder.training_arg) is None \
                        and not has_star(inner) and len(inner.args) <= 1:
                    return attr, last(iq), builder.training_arg
        return None

    def _evaluation_runs(self) -> List[Tuple[ast.Call, ast.AST, Scope]]:
        """(run call, what it fetches, scope) of each run that evaluates or samples."""
        ctx = self.ctx
        t = family_tables(ctx.api)
        train = train_op_names(self.ctx, self.ctx.api.update_aware_builders)
        # `samples = sess.run(fake, ...)`: the names a run's result is assigned to
        assigned_to: Dict[int, Set[str]] = {}
        for target, value, _ in ctx.scopes.assigns:
            if isinstance(value, ast.Call):
                assigned_to.setdefault(id(value), set()).update(
                    {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
                    | {n.attr for n in ast.walk(target) if isinstance(n, ast.Attribute)})
        restored: Set[int] = set()  # functions (or the module) that restore a checkpoint
        out = []
        for site in ctx.scopes.sites:
            call = site.call
            func = call.func
            if not isinstance(func, ast.Attribute):
                continue
            owner = _owner(site.scope)
            if func.attr in t.restore_methods and call.args:
                restored.add(id(owner))
                continue
            if func.attr not in t.graph_run_methods or ctx.names.raw(func) is not None:
                continue
            fetches = call.args[0] if call.args else (kwarg(call, "fetches").value if kwarg(call, "fetches") else None)
            if func.attr == "eval":
                fetches = func.value
            if fetches is None:
                continue
            fetched = {n.id for n in ast.walk(fetches) if isinstance(n, ast.Name)} | \
                {n.attr for n in ast.walk(fetches) if isinstance(n, ast.Attribute)}
            if fetched & train:
                continue
            # a name that says train/optim may be a train op, an Operation; `t.eval()`
            # evaluates a Tensor (an Operation has no `eval`), so there the word is no sign
            if func.attr != "eval" and any("train" in f.lower() or "optim" in f.lower() for f in fetched):
                continue
            named = set()
            for f in fetched | assigned_to.get(id(call), set()):
                named |= _words(f)
            if owner is not None and owner.is_function:
                named |= _words(owner.name)
            if named & t.evaluation_words or id(owner) in restored:
                out.append((call, fetches, site.scope))
        return out
