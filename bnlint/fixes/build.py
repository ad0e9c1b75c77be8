"""Fixes for findings that `ast` found: libcst parses the file (only a file
with findings, only once), each reported node is found by its span, and
the rule's fixer edits it. Every fix passes `offer()` before it is
offered anywhere (the one check point for all rules)."""

from __future__ import annotations

from typing import Callable, Dict, Optional

from ..finding import Fix


class FixContext:
    """libcst view of one file for the fixers."""

    def __init__(self, source: str, ctx, char_span: Callable) -> None:
        import libcst as cst

        self.source = source
        self.ctx = ctx  # the rules' RuleContext (semantic model, api)
        from .tree import Located

        self.module = cst.parse_module(source)
        self.where = Located(self.module, source)
        self._span = char_span

    def locate(self, node, kind):
        """The libcst node of type `kind` at an `ast` node's span."""
        return self.where.locate(self._span(node), kind)

    def ancestors(self, node):
        return self.where.ancestors(node)

    def edits(self, changes: Dict) -> tuple:
        from .edits import node_edits

        return node_edits(self.module, self.source, changes, self.where)


def offer(fix: Optional[Fix], source: str, tree=None) -> Optional[Fix]:
    """The single gate every fix passes before it is offered anywhere
    (JSON, --fix, --diff, the editor): it must have edits and pass
    validate.check_fix (parses, no argument twice); else None, and the
    finding keeps no fix. `tree`: `ast.parse(source)` when at hand."""
    if fix is None or not fix.edits:
        return None
    from .validate import validated

    return validated(fix, source, tree)


def build_fix(fctx: Optional[FixContext], rule, report) -> Optional[Fix]:
    """The fix for one report, or None when the rule or this case has none."""
    fixer = rule.fixers.get(report.variant)
    if fixer is None or fctx is None:
        return None
    try:
        fix = fixer(fctx, report)
    except Exception:  # a fixer bug must not cost the finding itself
        return None
    return offer(fix, fctx.source, getattr(fctx.ctx.model, "tree", None))
