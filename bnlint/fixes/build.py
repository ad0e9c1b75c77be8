"""Fixes for findings that `ast` found: libcst parses the file (only a file
with findings, only once), each reported node is found by its span, and
the rule's fixer edits it. Every fix passes `offer()` before it is
offered anywhere (the one check point for all rules)."""

from __future__ import annotations

from typing import Callable, Dict, Optional

from ..finding import Fix


class FixContext:
    """libcst view of one file for the fixers. The libcst parse and its
    position index are made when a fixer first asks for them, so a file
    whose findings have no fixer is never parsed by libcst; a parse that
    fails raises (each time it is asked; build_fix turns that into no fix)."""

    def __init__(self, source: str, ctx, char_span: Callable) -> None:
        self.source = source
        self.ctx = ctx  # the rules' RuleContext (semantic model, api)
        self._span = char_span
        self._tree = None  # (module, Located), or the parse's exception
        self._error: Optional[Exception] = None

    def _parsed(self):
        if self._error is not None:
            raise self._error
        if self._tree is None:
            import libcst as cst

            from .tree import Located

            try:
                module = cst.parse_module(self.source)
                tree = getattr(getattr(self.ctx, "model", None), "tree", None)  # the rules' ast parse
                self._tree = (module, Located(module, self.source, tree))
            except Exception as exc:  # libcst's parser fails on some valid Python
                self._error = exc
                raise
        return self._tree

    @property
    def module(self):
        return self._parsed()[0]

    @property
    def where(self):
        return self._parsed()[1]

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
